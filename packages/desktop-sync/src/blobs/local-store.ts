import { createHash, randomUUID } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Readable, type Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/*
 * The profile's blob files, content-addressed, under <profile>/blobs/:
 *
 *   objects/ab/<sha256>   the plaintext file a reference names (what the app reads)
 *   outgoing/<sha256>     the sealed bytes of a file made here for an encrypted account, until
 *                         the server holds them (they are what <sha256> hashes)
 *   tmp/                  files being written; renamed into place when whole
 *
 * A file appears under its name only whole (written to tmp/, then renamed), so a crash leaves
 * at most a stray file in tmp/, which the next start removes.
 */
export class LocalBlobStore {
  constructor(readonly dir: string) {
    rmSync(join(dir, "tmp"), { recursive: true, force: true });
  }

  objectPath(ref: string): string {
    return join(this.dir, "objects", ref.slice(0, 2), ref);
  }

  outgoingPath(ref: string): string {
    return join(this.dir, "outgoing", ref);
  }

  has(ref: string): boolean {
    return existsSync(this.objectPath(ref));
  }

  /** A fresh path in tmp/ (the folder exists). */
  tempPath(): string {
    mkdirSync(join(this.dir, "tmp"), { recursive: true });
    return join(this.dir, "tmp", randomUUID());
  }

  /** Moves a whole file from tmp/ to its place. */
  async place(temp: string, target: string): Promise<void> {
    mkdirSync(join(target, ".."), { recursive: true });
    await rename(temp, target);
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }

  remove(ref: string): void {
    rmSync(this.objectPath(ref), { force: true });
    rmSync(this.outgoingPath(ref), { force: true });
  }

  removeOutgoing(ref: string): void {
    rmSync(this.outgoingPath(ref), { force: true });
  }

  /** The references of every file kept here (objects/ and outgoing/), each once. */
  list(): string[] {
    const refs = new Set<string>();
    const names = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
    const objects = join(this.dir, "objects");
    for (const prefix of names(objects)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of names(join(objects, prefix))) if (REF.test(name)) refs.add(name);
    }
    for (const name of names(join(this.dir, "outgoing"))) if (REF.test(name)) refs.add(name);
    return [...refs];
  }
}

const REF = /^[0-9a-f]{64}$/;

/** A PassThrough that hashes what flows through it (SHA-256, lower-case hex once ended). */
export function hashing(): { stream: PassThrough; digest: () => string; bytes: () => number } {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  let digest: string | null = null;
  return {
    stream,
    digest: () => {
      digest ??= hash.digest("hex");
      return digest;
    },
    bytes: () => bytes,
  };
}

/** Writes `source` (through `through`, if given) to `path`, answering its SHA-256 and size. */
export async function writeHashed(
  source: Readable,
  path: string,
  through?: Transform,
): Promise<{ sha256: string; size: number }> {
  const hashed = hashing();
  const sink: Writable = createWriteStream(path, { flags: "wx", mode: 0o600 });
  if (through) await pipeline(source, through, hashed.stream, sink);
  else await pipeline(source, hashed.stream, sink);
  return { sha256: hashed.digest(), size: hashed.bytes() };
}

/** The SHA-256 of a file. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
