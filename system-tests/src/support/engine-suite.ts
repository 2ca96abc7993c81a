import { EngineFleet, makeTempDir } from "@chorus/desktop-sync/testing";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type TestAccount, TestBackend, type TestBackendOptions } from "./backend.js";

export interface EngineSuite {
  /** A new account with engines "a" and "b" in a new fleet (`fleet: "test"`), bound, not started. */
  boundPair(): Promise<{
    account: TestAccount;
    a: ReturnType<EngineFleet["open"]>;
    b: ReturnType<EngineFleet["open"]>;
  }>;
  /** One sync server and database for the whole file. */
  backend: TestBackend;
  /** The engines of the file (`fleet: "file"`) or of the running test (`fleet: "test"`). */
  fleet: EngineFleet;
  /** A temporary folder for the file (`temp: true`), removed at the end. */
  temp: ReturnType<typeof makeTempDir>;
}

/**
 * The set-up every engine test file shares, registered as vitest hooks: a TestBackend started
 * once, an EngineFleet per file or per test (closed after it; a test that stopped the server
 * gets it started again for the next one), an optional temporary folder; all torn down at the
 * end. Read the members inside hooks and tests (they are set in beforeAll).
 */
export function engineSuite(
  options: { backend?: TestBackendOptions; fleet?: "file" | "test"; temp?: boolean } = {},
): EngineSuite {
  const suite = {
    async boundPair() {
      suite.fleet = new EngineFleet();
      const account = await suite.backend.createAccount();
      const a = suite.fleet.open("a");
      const b = suite.fleet.open("b");
      await a.bind((await account.device("a")).session);
      await b.bind((await account.device("b")).session);
      return { account, a, b };
    },
  } as EngineSuite;
  beforeAll(async () => {
    suite.backend = await TestBackend.start(options.backend);
    if (options.fleet === "file") suite.fleet = new EngineFleet();
    if (options.temp) suite.temp = makeTempDir();
  });
  if (options.fleet === "test") {
    afterEach(async () => {
      await suite.fleet?.close();
      if (suite.backend && !suite.backend.server.running) await suite.backend.server.start();
    });
  }
  afterAll(async () => {
    await suite.fleet?.close();
    suite.temp?.remove();
    await suite.backend?.close();
  });
  return suite;
}
