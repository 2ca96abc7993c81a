import { randomBytes } from "node:crypto";

export const toBase64url = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");

export const fromBase64url = (text: string): Uint8Array =>
  new Uint8Array(Buffer.from(text, "base64url"));

export const random = (length: number): Uint8Array => new Uint8Array(randomBytes(length));

const utf8 = new TextEncoder();
export const utf8Bytes = (text: string): Uint8Array => utf8.encode(text);
export const utf8Text = (bytes: Uint8Array): string =>
  new TextDecoder("utf-8", { fatal: true }).decode(bytes);
