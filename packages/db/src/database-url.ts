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
