import { z } from "zod";

/** Parses a Postgres URL, throwing one clear message when it is not one. */
export function parseDatabaseUrl(raw: string, settingName = "DATABASE_URL"): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `${settingName} is not a valid URL (expected postgresql://user:password@host:port/database)`,
    );
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new Error(`${settingName} must start with postgresql:// (got ${url.protocol}//)`);
  }
  if (!url.hostname) throw new Error(`${settingName} has no host`);
  if (url.pathname.length <= 1) throw new Error(`${settingName} names no database`);
  return url;
}

/** The same server, another database. */
export function withDatabase(raw: string, database: string): string {
  const url = new URL(raw);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A URL safe to print: the password is masked. */
export function redactDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = "****";
    return url.toString();
  } catch {
    return "<invalid url>";
  }
}

/**
 * `DATABASE_URL` as every app's settings validate it: a PostgreSQL URL with a host and a
 * database, else one clear message. Each app's env.ts uses this schema; none repeats the rules.
 */
export const DatabaseUrl = z
  .string({ error: "DATABASE_URL is not set (npm start sets it for the embedded database)" })
  .superRefine((value, ctx) => {
    try {
      parseDatabaseUrl(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });
