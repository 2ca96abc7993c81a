/**
 * The per-user lock: a transaction-scoped advisory lock that serialises a user's pushes (so
 * their ids become visible in id order) with compaction of that user (docs/design.md#protocol).
 * `$1` is the user id. The push function `chorus_push_ops` (prisma/migrations, applied and
 * therefore frozen) takes the same key in SQL; a test in packages/api proves the two still
 * block each other.
 */
export const USER_LOCK_STATEMENT =
  "SELECT pg_advisory_xact_lock(hashtextextended('chorus:user:' || $1::uuid::text, 0))";
