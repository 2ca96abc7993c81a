import { defineConfig } from "vitest/config";
import { testLimits } from "../vitest.shared";

// Only the pure helpers are tested; the benchmarks themselves never run under vitest.
export default defineConfig({ test: { include: ["src/**/*.test.ts"], ...testLimits } });
