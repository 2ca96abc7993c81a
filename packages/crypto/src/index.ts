export {
  AccountKey,
  changePassword,
  createAccountKey,
  type ExportedAccountKey,
  MASTER_KEY_BYTES,
  type NewAccountKey,
  parseWrappedKey,
  unwrapAccountKey,
  wrapAccountKey,
} from "./account-key.js";
export {
  BLOB_CHUNK_BYTES,
  BLOB_HEADER_BYTES,
  createBlobOpener,
  createBlobSealer,
  sealedBlobSize,
} from "./blob.js";
export { CryptoError, type CryptoErrorCode, isCryptoError } from "./errors.js";
export { DEFAULT_KDF_COST, deriveKek, type KdfCost, newKdfParams, parseKdfParams } from "./kdf.js";
export { type OpenOptions, openOp, type SealableOp, sealOp } from "./ops.js";
export {
  blobRefsIn,
  openValue,
  sealValue,
  type ValueContext,
  valueAssociatedData,
} from "./seal.js";
