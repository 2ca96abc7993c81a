import { jsonByteLength, MAX_VALUE_BYTES, OpInput, SealedValueV1 } from "@chorus/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AccountKey,
  CryptoError,
  type CryptoErrorCode,
  openOp,
  openValue,
  sealOp,
  sealValue,
  type ValueContext,
} from "../src/index.js";

const userId = "5b4d5c0e-9d0e-4a53-8f3e-0b8f0d4f5c11";
const key = AccountKey.generate(userId);
const context: ValueContext = {
  userId,
  entity: "playlist",
  entityId: "7f0d2a3c-6a0b-4d35-9a39-3c7e8f5d1a20",
  field: "title",
  operationId: "0b9c5d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
  lamportTs: 42,
};

function codeOf(run: () => unknown): CryptoErrorCode {
  try {
    run();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  throw new Error("expected a CryptoError, the value opened");
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("sealed values", () => {
  it("round-trips any JSON value and hides it", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const plain = JSON.parse(JSON.stringify(value));
        const sealed = sealValue(key, plain, context);
        expect(SealedValueV1.parse(sealed)).toEqual(sealed);
        expect(openValue(key, sealed, context)).toEqual(plain);
      }),
      { numRuns: 200 },
    );
    const sealed = sealValue(key, "Road trip mix", context);
    expect(JSON.stringify(sealed)).not.toContain("Road trip");
    // A fresh nonce each time: the same value sealed twice looks different.
    expect(sealValue(key, "Road trip mix", context).c).not.toBe(sealed.c);
  });

  it("changing any character of the nonce or the ciphertext is detected", () => {
    const sealed = sealValue(key, { title: "Road trip mix", rating: 5 }, context);
    fc.assert(
      fc.property(
        fc.constantFrom<"n" | "c">("n", "c"),
        fc.nat(),
        fc.nat(B64.length - 2),
        (part, at, shift) => {
          const text = sealed[part];
          const index = at % text.length;
          const original = B64.indexOf(text[index] as string);
          const replacement = B64[(original + 1 + shift) % B64.length] as string;
          const altered = {
            ...sealed,
            [part]: text.slice(0, index) + replacement + text.slice(index + 1),
          };
          expect(codeOf(() => openValue(key, altered, context))).toBe("tampered");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("flipping any bit of the sealed bytes is detected", () => {
    const sealed = sealValue(key, "a short title", context);
    const bytes = Buffer.from(sealed.c, "base64url");
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const copy = Buffer.from(bytes);
      copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(
        codeOf(() => openValue(key, { ...sealed, c: copy.toString("base64url") }, context)),
      ).toBe("tampered");
    }
  });

  it("a value moved to another user, entity, entity id, field, op or stamp does not open", () => {
    const sealed = sealValue(key, "Road trip mix", context);
    const moves: Array<Partial<ValueContext>> = [
      { userId: "0c6a3e59-8d2b-4b0b-9f55-7c0b5b1b2a10" },
      { entity: "track" },
      { entityId: "7f0d2a3c-6a0b-4d35-9a39-3c7e8f5d1a21" },
      { field: "description" },
      { field: null },
      { operationId: "0b9c5d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0f" },
      { lamportTs: 43 },
    ];
    for (const move of moves) {
      expect(codeOf(() => openValue(key, sealed, { ...context, ...move }))).toBe("tampered");
    }
    // Ids compare case-insensitively: a UUID in capitals is the same id.
    expect(
      openValue(key, sealed, { ...context, operationId: context.operationId.toUpperCase() }),
    ).toBe("Road trip mix");
  });

  it("a value sealed for one context never opens under any other (property)", () => {
    const contextArb = fc.record({
      userId: fc.constantFrom(userId, "0c6a3e59-8d2b-4b0b-9f55-7c0b5b1b2a10"),
      entity: fc.constantFrom("playlist", "track", "playlist_entry"),
      entityId: fc.constantFrom(context.entityId, "p1", "p2"),
      field: fc.constantFrom<string | null>("title", "notes", null),
      operationId: fc.constantFrom(context.operationId, "6a1f5c3e-2b4d-4e6f-8a9b-0c1d2e3f4a5b"),
      lamportTs: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(contextArb, contextArb, fc.jsonValue({ maxDepth: 2 }), (a, b, value) => {
        const sealed = sealValue(key, JSON.parse(JSON.stringify(value)), a);
        if (JSON.stringify(a) === JSON.stringify(b)) {
          expect(openValue(key, sealed, b)).toEqual(JSON.parse(JSON.stringify(value)));
        } else {
          expect(codeOf(() => openValue(key, sealed, b))).toBe("tampered");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("any change of the clear blob list or the epoch is detected", () => {
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    const sealed = sealValue(key, { file: { $blobs: [a] }, name: "x.jpg" }, context);
    expect(sealed.$blobs).toEqual([a]);
    expect(codeOf(() => openValue(key, { ...sealed, $blobs: [b] }, context))).toBe("tampered");
    expect(codeOf(() => openValue(key, { ...sealed, $blobs: undefined }, context))).toBe(
      "tampered",
    );
    const otherEpoch = AccountKey.import({ ...key.exportKey(), epoch: 2 });
    expect(codeOf(() => openValue(otherEpoch, sealed, context))).toBe("key_epoch_mismatch");
    expect(codeOf(() => openValue(otherEpoch, { ...sealed, e: 2 }, context))).toBe("tampered");
  });

  it("another key, a plaintext value and a later envelope version are typed errors", () => {
    const sealed = sealValue(key, "x", context);
    expect(codeOf(() => openValue(AccountKey.generate(userId), sealed, context))).toBe("tampered");
    expect(codeOf(() => openValue(key, "x", context))).toBe("not_sealed");
    expect(codeOf(() => openValue(key, { ...sealed, $sealed: 2 }, context))).toBe(
      "unsupported_envelope",
    );
    expect(codeOf(() => openValue(key, { ...sealed, extra: 1 }, context))).toBe("tampered");
  });

  it("refuses a value whose envelope would exceed the per-value limit, and fits one just below", () => {
    const tooBig = "x".repeat(Math.ceil(MAX_VALUE_BYTES * 0.75));
    expect(codeOf(() => sealValue(key, tooBig, context))).toBe("value_too_large");
    const fits = "x".repeat(Math.floor(MAX_VALUE_BYTES * 0.75) - 120);
    expect(jsonByteLength(sealValue(key, fits, context))).toBeLessThanOrEqual(MAX_VALUE_BYTES);
  });
});

describe("sealed ops", () => {
  const base = {
    operationId: context.operationId,
    lamportTs: 42,
    entity: "playlist",
    entityId: context.entityId,
  };

  it("seals set and insert values, keeps initial field names, leaves deletes alone", () => {
    const set = { ...base, field: "title", op: "set" as const, value: null };
    const insert = {
      ...base,
      field: null,
      op: "insert" as const,
      value: { title: "Mix", position: 3 },
    };
    const del = { ...base, field: null, op: "delete" as const, value: null };
    const sealedSet = sealOp(key, userId, set);
    const sealedInsert = sealOp(key, userId, insert);
    expect(sealedSet.value).toMatchObject({ $sealed: 1 });
    expect(Object.keys(sealedInsert.value as object)).toEqual(["title", "position"]);
    expect(sealOp(key, userId, del)).toBe(del);
    // What a device pushes stays valid protocol input.
    for (const op of [sealedSet, sealedInsert]) expect(OpInput.safeParse(op).success).toBe(true);
    expect(openOp(key, userId, sealedSet)).toEqual(set);
    expect(openOp(key, userId, sealedInsert)).toEqual(insert);
  });

  it("an initial field swapped with another does not open; plaintext is refused unless allowed", () => {
    const insert = {
      ...base,
      field: null,
      op: "insert" as const,
      value: { title: "A", note: "B" },
    };
    const sealed = sealOp(key, userId, insert);
    const value = sealed.value as Record<string, unknown>;
    const swapped = { ...sealed, value: { title: value.note, note: value.title } };
    expect(codeOf(() => openOp(key, userId, swapped as typeof insert))).toBe("tampered");
    const plain = { ...base, field: "title", op: "set" as const, value: "clear" };
    expect(codeOf(() => openOp(key, userId, plain))).toBe("not_sealed");
    expect(openOp(key, userId, plain, { allowPlaintext: true })).toEqual(plain);
  });

  it("a sealed op re-stamped by the server does not open", () => {
    const sealed = sealOp(key, userId, {
      ...base,
      field: "title",
      op: "set" as const,
      value: "Mix",
    });
    expect(codeOf(() => openOp(key, userId, { ...sealed, lamportTs: 99 }))).toBe("tampered");
    expect(codeOf(() => openOp(key, userId, { ...sealed, entity: "track" }))).toBe("tampered");
  });
});
