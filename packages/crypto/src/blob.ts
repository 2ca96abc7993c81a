import { Transform, type TransformCallback } from "node:stream";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { type AccountKey, keyBytes, normalizeId } from "./account-key.js";
import { random, utf8Bytes } from "./bytes.js";
import { CryptoError } from "./errors.js";

/*
 * Sealed blob bytes: the file is cut into chunks of BLOB_CHUNK_BYTES, each sealed with
 * XChaCha20-Poly1305 under the account's master key. The nonce is a random 19-byte prefix (one
 * per blob, in the header), the chunk's index (4 bytes) and a last-chunk flag (1 byte), so a
 * chunk moved, dropped, duplicated, or a blob cut short fails to open. The associated data binds
 * the blob to its account and key epoch. Layout:
 *
 *   "CHB" 0x01 | epoch (uint32 BE) | nonce prefix (19 bytes) | chunk ciphertext + tag, ...
 *
 * The server stores and hashes these bytes like any other blob (it cannot tell).
 */
export const BLOB_CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const PREFIX_BYTES = 19;
const MAGIC = [0x43, 0x48, 0x42, 0x01];
export const BLOB_HEADER_BYTES = MAGIC.length + 4 + PREFIX_BYTES;

function blobAssociatedData(userId: string, epoch: number): Uint8Array {
  return utf8Bytes(JSON.stringify(["chorus/blob", 1, epoch, normalizeId(userId)]));
}

function chunkNonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(24);
  nonce.set(prefix, 0);
  new DataView(nonce.buffer).setUint32(PREFIX_BYTES, index);
  nonce[23] = last ? 1 : 0;
  return nonce;
}

/** The sealed size of a blob of `plainBytes` bytes. */
export function sealedBlobSize(plainBytes: number): number {
  const chunks = Math.max(1, Math.ceil(plainBytes / BLOB_CHUNK_BYTES));
  return BLOB_HEADER_BYTES + plainBytes + chunks * TAG_BYTES;
}

/** A Transform that seals a blob's bytes for `key`'s account (pipe the file through it). */
export function createBlobSealer(key: AccountKey): Transform {
  const prefix = random(PREFIX_BYTES);
  const ad = blobAssociatedData(key.userId, key.epoch);
  const header = new Uint8Array(BLOB_HEADER_BYTES);
  header.set(MAGIC, 0);
  new DataView(header.buffer).setUint32(MAGIC.length, key.epoch);
  header.set(prefix, MAGIC.length + 4);
  let pending = Buffer.alloc(0);
  let index = 0;
  let headerSent = false;
  const seal = (chunk: Uint8Array, last: boolean) =>
    xchacha20poly1305(keyBytes(key), chunkNonce(prefix, index++, last), ad).encrypt(chunk);
  return new Transform({
    transform(data: Buffer, _encoding, done: TransformCallback) {
      if (!headerSent) {
        this.push(header);
        headerSent = true;
      }
      pending = Buffer.concat([pending, data]);
      // Keep at least one byte back: the last chunk is only known at the end.
      while (pending.length > BLOB_CHUNK_BYTES) {
        this.push(seal(pending.subarray(0, BLOB_CHUNK_BYTES), false));
        pending = pending.subarray(BLOB_CHUNK_BYTES);
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!headerSent) this.push(header);
      this.push(seal(pending, true));
      done();
    },
  });
}

/**
 * A Transform that opens what createBlobSealer made, for `key`'s account. Errors (as the
 * stream's error): `tampered` for any changed, moved, dropped or missing chunk or a cut-short
 * blob, `key_epoch_mismatch` for another epoch, `unsupported_envelope` for another format.
 */
export function createBlobOpener(key: AccountKey): Transform {
  const ad = blobAssociatedData(key.userId, key.epoch);
  const sealedChunk = BLOB_CHUNK_BYTES + TAG_BYTES;
  let pending = Buffer.alloc(0);
  let prefix: Uint8Array | null = null;
  let index = 0;
  const open = (chunk: Uint8Array, last: boolean): Uint8Array => {
    if (!prefix) throw new CryptoError("tampered", "the sealed blob has no header");
    try {
      return xchacha20poly1305(keyBytes(key), chunkNonce(prefix, index++, last), ad).decrypt(chunk);
    } catch {
      throw new CryptoError(
        "tampered",
        `chunk ${index - 1} of the sealed blob does not authenticate`,
      );
    }
  };
  return new Transform({
    transform(data: Buffer, _encoding, done: TransformCallback) {
      try {
        pending = Buffer.concat([pending, data]);
        if (!prefix) {
          if (pending.length < BLOB_HEADER_BYTES) return done();
          if (MAGIC.some((byte, i) => pending[i] !== byte)) {
            throw new CryptoError("unsupported_envelope", "not a sealed blob of format 1");
          }
          const epoch = pending.readUInt32BE(MAGIC.length);
          if (epoch !== key.epoch) {
            throw new CryptoError(
              "key_epoch_mismatch",
              `the blob is sealed under key epoch ${epoch}, the key at hand is epoch ${key.epoch}`,
              { expected: key.epoch, actual: epoch },
            );
          }
          prefix = Uint8Array.from(pending.subarray(MAGIC.length + 4, BLOB_HEADER_BYTES));
          pending = pending.subarray(BLOB_HEADER_BYTES);
        }
        // A full sealed chunk followed by more bytes is not the last one.
        while (pending.length > sealedChunk) {
          this.push(open(pending.subarray(0, sealedChunk), false));
          pending = pending.subarray(sealedChunk);
        }
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        if (!prefix) throw new CryptoError("tampered", "the sealed blob is cut short");
        this.push(open(pending, true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
