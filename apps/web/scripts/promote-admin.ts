// Makes an existing account an admin:
//   npm run promote-admin -w @chorus/web -- someone@example.com
// Reads DATABASE_URL (the shell's, else the repo's .env). An open session of that person picks
// the new role up within a minute.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createPrisma, parseDatabaseUrl, redactDatabaseUrl } from "@chorus/db";
import { Email } from "../src/lib/account-schema";
import { promoteToAdmin } from "../src/server/accounts";

const { positionals } = parseArgs({ allowPositionals: true });
const email = Email.safeParse(positionals[0] ?? "");
if (positionals.length !== 1 || !email.success) {
  console.error("usage: npm run promote-admin -w @chorus/web -- someone@example.com");
  process.exit(2);
}

const dotenv = resolve(import.meta.dirname, "../../../.env");
if (existsSync(dotenv)) process.loadEnvFile(dotenv);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is not set: point it at the database of the running system");
  process.exit(2);
}
parseDatabaseUrl(databaseUrl);

const prisma = createPrisma(databaseUrl, { max: 1 });
try {
  if (await promoteToAdmin(prisma, email.data)) {
    console.log(`${email.data} is now an admin (${redactDatabaseUrl(databaseUrl)})`);
  } else {
    console.error(`no account has the email ${email.data}; it must sign up first`);
    process.exitCode = 1;
  }
} finally {
  await prisma.$disconnect();
}
