import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";

export { Prisma } from "./generated/prisma/client.js";
export { PrismaClient };

export interface CreatePrismaOptions {
  /** Pool size for this process; the push hot path and subscriptions share it. */
  max?: number;
}

/**
 * How often Postgres checks, while it runs one of our statements, that this process is still
 * there. A push is one statement (chorus_push_ops) that may wait on the user's lock; without
 * the check, a statement whose server process died would still commit once the lock came
 * free, instead of rolling back (Postgres otherwise notices a lost client only when it answers).
 */
export const CLIENT_CONNECTION_CHECK_MS = 1_000;

const pools = new WeakMap<PrismaClient, pg.Pool>();

/** A Prisma 7 client on node-postgres through the driver adapter (no native engine). */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  // The pool is made here and handed to the adapter (which ends it on $disconnect), so that
  // the push statement can run on it directly (see poolOf).
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    options: `-c client_connection_check_interval=${CLIENT_CONNECTION_CHECK_MS}`,
  });
  // The adapter listens for errors of idle connections once Prisma connects; until then (a
  // push may come first) a connection dropped by the server must not crash the process.
  pool.on("error", () => {});
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // "minimal": no stack capture on every query to point at the caller in an error message
  // (a tenth of Prisma's own CPU per push); our errors are logged with their stacks anyway.
  const prisma = new PrismaClient({ adapter, errorFormat: "minimal" });
  pools.set(prisma, pool);
  return prisma;
}

/**
 * The node-postgres pool under a client made by createPrisma (null for any other client): the
 * same connections, with the same settings, that Prisma's queries use. For the few hot
 * statements run by queryPrepared; everything else goes through Prisma.
 */
export function poolOf(prisma: PrismaClient): pg.Pool | null {
  const pool = pools.get(prisma);
  // After $disconnect the pool is ended; Prisma would connect afresh, so its queries go there.
  return pool && !pool.ending ? pool : null;
}

/**
 * One statement, prepared by `name` on the client's own pool (poolOf): Postgres parses and
 * plans it once per connection, and Prisma's per-query work, as much CPU on the push path as
 * the rest of the statement's client side, is skipped (ADRs 0030, 0033, 0035). A client
 * without such a pool runs the same text and parameters through Prisma (`types` applies only
 * on the pool). For the push and the pull page; everything else goes through Prisma.
 */
export async function queryPrepared<R extends pg.QueryResultRow>(
  prisma: PrismaClient,
  query: { name: string; text: string; values: unknown[]; types?: pg.CustomTypesConfig },
): Promise<R[]> {
  const pool = poolOf(prisma);
  if (pool) return (await pool.query<R>(query)).rows;
  return prisma.$queryRawUnsafe<R[]>(query.text, ...query.values);
}

/** A parameter the statement's first row is asked with: sent as text, as node-postgres would. */
export type TextParameter = string | number | boolean | null;

/** What of node-postgres' Connection a statement of our own writes to (pg/lib/connection.js). */
interface ProtocolConnection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  stream: { cork?(): void; uncork?(): void };
  parse(message: { name: string; text: string }): void;
  bind(message: {
    statement: string;
    portal: string;
    values: TextParameter[];
    valueMapper: (value: TextParameter) => string | null;
  }): void;
  execute(message: { portal: string }): void;
  sync(): void;
  close(message: { type: "S"; name: string }): void;
  sendCopyFail(message: string): void;
}

type FirstRowCallback = (error: Error | null, row?: (string | null)[] | null) => void;

/** As node-postgres writes a text parameter: NULL for null, else the value's text. */
const textParameter = (value: TextParameter): string | null =>
  value === null ? null : String(value);

/**
 * One execution of a named prepared statement whose answer is read as its first row's text, for
 * node-postgres' client to run as it runs its own queries (a `Submittable`: the client hands it
 * the protocol's messages for it). What node-postgres' Query does for a named statement, less
 * what such a caller does not use: the statement is parsed on a connection's first execution
 * (the connection's bookkeeping of parsed statements kept as Query keeps it, so a failed parse
 * is parsed again next time and a statement that ran is never parsed twice), then Bind, Execute
 * and Sync in one write. Without a Describe, Postgres sends no row description, and the answer
 * is each column's text in the statement's column order (null for NULL), not an object built
 * from field descriptions with a type parser per column. A refusal from Postgres is the same
 * DatabaseError node-postgres' Query gives.
 */
class FirstRowText {
  callback: FirstRowCallback | undefined;
  private row: (string | null)[] | null = null;

  constructor(
    readonly name: string,
    readonly text: string,
    private readonly values: TextParameter[],
  ) {}

  submit(connection: ProtocolConnection): Error | undefined {
    const previous =
      connection.parsedStatements[this.name] ?? connection.submittedNamedStatements[this.name];
    if (previous !== undefined && previous !== this.text) {
      return new Error(
        `Prepared statements must be unique - '${this.name}' was used for a different statement`,
      );
    }
    connection.stream.cork?.();
    try {
      if (previous === undefined) {
        connection.parse({ name: this.name, text: this.text });
        connection.submittedNamedStatements[this.name] = this.text;
      }
      try {
        connection.bind({
          statement: this.name,
          portal: "",
          values: this.values,
          valueMapper: textParameter,
        });
      } catch (error) {
        connection.close({ type: "S", name: this.name });
        connection.sync();
        this.handleError(error as Error);
        return undefined;
      }
      connection.execute({ portal: "" });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return undefined;
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    this.row ??= message.fields;
  }

  handleReadyForQuery(): void {
    this.callback?.(null, this.row);
  }

  handleError(error: Error): void {
    this.callback?.(error);
  }

  handleRowDescription(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: ProtocolConnection): void {
    connection.sendCopyFail("No source stream defined");
  }
  handleCopyData(): void {}
}

/**
 * The first row of one statement, prepared by `name` on the client's own pool (poolOf), as its
 * columns' text in the statement's order (null for SQL NULL; null for no row at all); undefined
 * for a client without such a pool, which the caller then runs through Prisma. For the push,
 * whose answer is one row read by position (ADR 0047): node-postgres' Query, its Result and the
 * row description Postgres sends it on every execution were a tenth of the push's JavaScript.
 */
export function queryPreparedFirstRow(
  prisma: PrismaClient,
  query: { name: string; text: string; values: TextParameter[] },
): Promise<(string | null)[] | null> | undefined {
  const pool = poolOf(prisma);
  if (!pool) return undefined;
  return new Promise((resolve, reject) => {
    const statement = new FirstRowText(query.name, query.text, query.values);
    // pg-pool lends a connection, hands the statement to its client with this callback, and
    // takes the connection back when it is called (or drops it on a connection error).
    (pool.query as unknown as (statement: FirstRowText, callback: FirstRowCallback) => void)(
      statement,
      (error, row) => (error ? reject(error) : resolve(row ?? null)),
    );
  });
}
