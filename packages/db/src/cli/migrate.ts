import { parseDatabaseUrl, redactDatabaseUrl } from "../database-url.js";
import { MigrationError, migrate } from "../migrate.js";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    "DATABASE_URL is not set: nothing to migrate (npm start migrates its embedded database itself)",
  );
  process.exit(1);
}
try {
  parseDatabaseUrl(url);
  const result = await migrate(url, { log: (line) => console.log(line) });
  console.log(
    `${redactDatabaseUrl(url)}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`,
  );
} catch (error) {
  console.error(error instanceof MigrationError || error instanceof Error ? error.message : error);
  process.exit(1);
}
