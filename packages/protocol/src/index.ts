export { AckInput } from "./ack.js";
export {
  AckBeyondHead,
  describeSyncError,
  InvalidInput,
  isSyncError,
  LamportRegression,
  MAX_REPORTED_ISSUES,
  PayloadTooLarge,
  parseSyncError,
  RateLimited,
  ResyncRequired,
  refusalOf,
  refusedOpIndexes,
  type SchemaIssue,
  SYNC_ERROR_TRPC_CODE,
  SyncError,
  type SyncErrorOf,
  type SyncErrorType,
  SyncProtocolError,
  syncError,
  UpgradeRequired,
} from "./errors.js";
export {
  DEFAULT_PULL_LIMIT,
  ENTITY_NAME_PATTERN,
  FIELD_NAME_PATTERN,
  jsonByteLength,
  MAX_BATCH_BYTES,
  MAX_ENTITY_ID_LENGTH,
  MAX_OPS_PER_BATCH,
  MAX_PULL_LIMIT,
  MAX_VALUE_BYTES,
  MAX_VALUE_DEPTH,
} from "./limits.js";
export {
  applyOp,
  compactionSurvivors,
  compareVersions,
  createLwwState,
  entityKey,
  type LwwOp,
  type LwwState,
  type MaterializedEntity,
  type MaterializedState,
  materialize,
  type Version,
  viewState,
} from "./lww.js";
export { EntityId, EntityName, FieldName, OpInput, OpKind, SyncOp } from "./op.js";
export { PullInput, PullResult } from "./pull.js";
export { PushInput, PushOpResult, PushResult } from "./push.js";
export { SubscribeInput } from "./subscribe.js";
export {
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
  protocolVersionRefusal,
} from "./version.js";
export {
  Cursor,
  JsonValue,
  LamportTs,
  OpId,
  toWireInt,
  Uuid,
  unstorableStringProblem,
  wireString,
} from "./wire.js";
