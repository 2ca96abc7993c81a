import { open, stat } from "node:fs/promises";
import { COVER_MAX_BYTES } from "../contract.js";
import { EngineError } from "../errors.js";

/*
 * A playlist's cover image: checked before it becomes a blob. The type is found from the
 * file's first bytes (a name or an extension says nothing), and only images a window can show
 * everywhere are taken: PNG, JPEG, GIF, WebP.
 */

/** The image type of these first bytes, or null when they are none of the four. */
export function imageType(head: Uint8Array): string | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (
    starts(0x52, 0x49, 0x46, 0x46) &&
    head[8] === 0x57 &&
    head[9] === 0x45 &&
    head[10] === 0x42 &&
    head[11] === 0x50
  ) {
    return "image/webp";
  }
  return null;
}

/** Checks a cover (a file's path, or its bytes): an image of an accepted type and size. */
export async function checkCover(
  source: { path: string } | { bytes: Uint8Array },
): Promise<string> {
  let size: number;
  let head: Uint8Array;
  if ("path" in source) {
    try {
      size = (await stat(source.path)).size;
      const file = await open(source.path, "r");
      try {
        head = new Uint8Array(16);
        await file.read(head, 0, 16, 0);
      } finally {
        await file.close();
      }
    } catch (error) {
      throw new EngineError(
        "invalid_input",
        `the cover file cannot be read: ${(error as Error).message}`,
        {},
      );
    }
  } else {
    size = source.bytes.length;
    head = source.bytes.subarray(0, 16);
  }
  if (size === 0) throw new EngineError("invalid_input", "the cover file is empty", {});
  if (size > COVER_MAX_BYTES) {
    throw new EngineError(
      "invalid_input",
      `the cover image is ${size} bytes; a cover may be at most ${COVER_MAX_BYTES} bytes`,
      { limit: COVER_MAX_BYTES, actual: size },
    );
  }
  const type = imageType(head);
  if (!type) {
    throw new EngineError("invalid_input", "the cover must be a PNG, JPEG, GIF or WebP image", {});
  }
  return type;
}
