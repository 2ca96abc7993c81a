import { tmpdir } from "node:os";
import { join } from "node:path";

/*
 * Where the system under test listens, and where it says which database it runs on. Shared by
 * playwright.config.ts (which starts the system) and the fixtures (which talk to it).
 */
export const WEB_PORT = Number(process.env.E2E_WEB_PORT ?? 3100);
export const SYNC_PORT = Number(process.env.E2E_SYNC_PORT ?? 4100);
export const WEB_URL = `http://127.0.0.1:${WEB_PORT}`;
export const SYNC_URL = `http://127.0.0.1:${SYNC_PORT}`;

/**
 * scripts/start.ts writes the DATABASE_URL it runs on to this file (CHORUS_DATABASE_URL_FILE,
 * set by playwright.config.ts) and removes it when it stops: the throwaway embedded database's
 * URL is only known once it has started.
 */
export const DATABASE_URL_FILE = join(tmpdir(), `chorus-e2e-${WEB_PORT}.database-url`);
