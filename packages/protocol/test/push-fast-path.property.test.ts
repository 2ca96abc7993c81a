import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  JsonValue,
  jsonByteLength,
  MAX_BATCH_BYTES,
  MAX_ENTITY_ID_LENGTH,
  MAX_OPS_PER_BATCH,
  MAX_VALUE_BYTES,
  PushInput,
  parsePushInput,
} from "../src/index.js";
import { acceptPushInput } from "../src/push.js";
import { isPlainJson } from "../src/wire.js";

/*
 * parsePushInput (the sync server's parser of a push) must accept exactly what PushInput
 * accepts, give the same output (same fields, same order, same values) and refuse with the
 * same issues and messages. The generators mix valid ops with every kind of wrong field the
 * schema checks, near every bound, so both accepted and refused batches are plentiful.
 */

const validUuid = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.constantFrom("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
);
const operationId = fc.oneof(
  { weight: 12, arbitrary: validUuid },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 40 }),
      validUuid.map((id) => `${id} `),
      validUuid.map((id) => `${id.slice(0, 14)}0${id.slice(15)}`), // version 0
      validUuid.map((id) => `${id.slice(0, 19)}c${id.slice(20)}`), // variant c
      fc.constantFrom(undefined, null, 7, ["x"]),
    ),
  },
);

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/);
const badName = fc.oneof(
  fc.constantFrom("", "Track", "1st", "_x", "a-b", "a".repeat(65), "tïtle", "a\u0000"),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(undefined, 3, null),
);
const entity = fc.oneof({ weight: 12, arbitrary: name }, { weight: 1, arbitrary: badName });

// Strings that may hold U+0000, lone or paired surrogates, escapes, and code points of 1-4 bytes.
const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength, unit: "binary" }),
    fc.string({ maxLength, unit: "grapheme" }),
    fc.string({
      maxLength,
      unit: fc.constantFrom(
        "a",
        '"',
        "\\",
        "\n",
        "\u0001",
        "é",
        "€",
        "\u0000",
        "\uD83D",
        "\uDE00",
        "😀",
      ),
    }),
  );
const entityId = fc.oneof(
  { weight: 8, arbitrary: fc.uuid() },
  { weight: 4, arbitrary: anyText(12) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom("", "x".repeat(MAX_ENTITY_ID_LENGTH), "x".repeat(MAX_ENTITY_ID_LENGTH + 1)),
      fc.constantFrom(undefined, null, 12),
    ),
  },
);
const field = fc.oneof(
  { weight: 6, arbitrary: name },
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: badName },
);
const kind = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom("set", "delete", "insert", "noop") },
  { weight: 1, arbitrary: fc.constantFrom("SET", "update", "", undefined, null, 1) },
);
class Point {
  constructor(readonly x = 1) {}
}
const deep = (levels: number): unknown => (levels === 0 ? 1 : [deep(levels - 1)]);
/** Objects nested `levels` deep around `inner`: { a: { a: ... inner } }. */
const deepObject = (levels: number, inner: unknown): unknown =>
  levels === 0 ? inner : { a: deepObject(levels - 1, inner) };
// One thing JSON cannot carry as is (or just can), somewhere inside an object or array value:
// what the fast path's own walk of a value (isPlainJson) must refuse exactly as JsonValue does.
const oddLeaf = fc.constantFrom<unknown>(
  "\u0000",
  "a\uD800",
  "\uDE00b",
  "\uD83D\uDE00",
  Number.NaN,
  Number.NEGATIVE_INFINITY,
  -0,
  undefined,
  10n,
  Symbol.for("x"),
  () => 1,
  new Date(0),
  new Point(),
  new Map(),
  Object.create(null),
  Object.assign(Object.create(null), { b: 1 }),
  new Array(3).fill(1, 0, 1), // a sparse array: [1, <2 empty items>]
  [],
  {},
  true,
);
const oddNestedJson = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), oddLeaf)
    .map(([levels, leaf]) => deepObject(levels, leaf)),
  fc
    .tuple(fc.integer({ min: 62, max: 66 }), oddLeaf)
    .map(([levels, leaf]) => deepObject(levels, leaf)),
  fc
    .tuple(fc.integer({ min: 61, max: 65 }), fc.boolean())
    .map(([levels, array]) => (array ? [deepObject(levels, 1)] : deepObject(levels, [1]))),
  fc
    .tuple(fc.oneof(name, anyText(4)), oddLeaf, fc.jsonValue({ maxDepth: 1 }))
    .map(([key, leaf, other]) => ({ other, [key]: [other, leaf] })),
  fc.tuple(anyText(3), fc.jsonValue({ maxDepth: 2 })).map(([key, inner]) => ({ [key]: inner })),
);
const value = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  { weight: 8, arbitrary: anyText(20) },
  { weight: 3, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean()) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 3,
    arbitrary: fc.dictionary(fc.oneof(name, anyText(4)), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: 3,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, undefined, 10n),
      fc.constantFrom(deep(64), deep(65), [deep(63)], { a: deep(64) }),
      fc.constant(new Date(0)),
      fc.constant(new Point()),
      fc.constant(Object.create(null)),
      fc.constant({ "a\u0000": 1 }),
      oddNestedJson,
      fc.integer({ min: MAX_VALUE_BYTES - 4, max: MAX_VALUE_BYTES }).map((n) => "x".repeat(n)),
      fc
        .integer({ min: MAX_VALUE_BYTES - 8, max: MAX_VALUE_BYTES })
        .map((n) => ({ a: "é".repeat(n / 2) })),
    ),
  },
);
const lamportStep = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 1_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 0.5) },
);
const oddLamport = fc.constantFrom(
  0,
  -0,
  -3,
  1.5,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  Number.NaN,
  "5",
  null,
);

interface OpShape {
  operationId: unknown;
  entity: unknown;
  entityId: unknown;
  field: unknown;
  op: unknown;
  value: unknown;
  step: number;
  lamport: unknown;
  dropKey: string | null;
  extraKey: boolean;
  /** Make the op follow its kind's rules (a delete of nothing, a set of a field...). */
  followRules: boolean;
}
const opShape: fc.Arbitrary<OpShape> = fc.record({
  operationId,
  entity,
  entityId,
  field,
  op: kind,
  value,
  step: lamportStep,
  lamport: fc.oneof(
    { weight: 20, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: oddLamport },
  ),
  dropKey: fc.oneof(
    { weight: 20, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom("operationId", "lamportTs", "field", "value", "op") },
  ),
  extraKey: fc.boolean(),
  followRules: fc.boolean(),
});
// Ops that pass (text without U+0000 or lone surrogates, finite numbers, plain JSON), so that
// batches of several ops are accepted often enough; a batch may then carry one op of any shape.
const goodText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength, unit: "grapheme" }),
    fc.string({ maxLength, unit: fc.constantFrom("a", '"', "\\", "\n", "\u0001", "é", "€", "😀") }),
  );
const goodOpShape: fc.Arbitrary<OpShape> = fc.record({
  operationId: validUuid,
  entity: name,
  entityId: fc.oneof(
    fc.uuid(),
    goodText(12).filter((text) => text.length > 0),
  ),
  field: fc.oneof(name, fc.constant(null)),
  op: fc.constantFrom("set", "delete", "insert", "noop"),
  value: fc.oneof(
    fc.constant(null),
    goodText(20),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(name, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  ),
  step: fc.integer({ min: 1, max: 1_000 }),
  lamport: fc.constant(undefined),
  dropKey: fc.constant(null),
  extraKey: fc.boolean(),
  followRules: fc.constant(true),
});

/** Ops of the shapes above; an op of a repeated operationId or a kind's usual field now and then. */
function toOps(shapes: OpShape[], start: number, repeatAt: number | null): unknown[] {
  let lamport = start;
  return shapes.map((shape, index) => {
    lamport += shape.step;
    const op: Record<string, unknown> = {
      operationId: shape.operationId,
      lamportTs: shape.lamport === undefined ? lamport : shape.lamport,
      entity: shape.entity,
      entityId: shape.entityId,
      field: shape.field,
      op: shape.op,
      value: shape.value,
    };
    // Make the kinds' rules pass more often than chance would: a delete of nothing, a set of a field.
    if (shape.op === "delete" && shape.followRules) {
      op.field = null;
      op.value = null;
    }
    if (shape.op === "set" && op.field === null && shape.followRules) op.field = "title";
    if (shape.op === "insert" && op.field === null && shape.followRules) {
      const initial = shape.value;
      if (typeof initial !== "object" || Array.isArray(initial))
        op.value = { title: initial ?? null };
    }
    if (repeatAt !== null && index === repeatAt && index > 0) {
      op.operationId = (shapes[0] as OpShape).operationId;
    }
    if (shape.dropKey) delete op[shape.dropKey];
    if (shape.extraKey) op.extra = "dropped";
    return op;
  });
}

const telemetry = fc.oneof(
  { weight: 10, arbitrary: fc.constant("absent") },
  {
    weight: 2,
    arbitrary: fc.constant({
      queueDepth: 3,
      oldestPendingAgeMs: null,
      lastError: null,
      quarantinedCount: 0,
      quarantined: [],
      cursor: 12,
      appVersion: "1.0.0",
      protocolVersion: 1,
      clock: 1_700_000_000_000,
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, { queueDepth: -1 }, "x") },
);

const pushInput = fc
  .record({
    shapes: fc.oneof(
      { weight: 10, arbitrary: fc.array(goodOpShape, { minLength: 1, maxLength: 12 }) },
      {
        weight: 10,
        arbitrary: fc
          .tuple(fc.array(goodOpShape, { minLength: 1, maxLength: 12 }), opShape, fc.nat())
          .map(([good, any, at]) => [...good].toSpliced(at % (good.length + 1), 0, any)),
      },
      { weight: 3, arbitrary: fc.array(opShape, { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.constant([] as OpShape[]) },
    ),
    start: fc.oneof(
      { weight: 10, arbitrary: fc.integer({ min: 0, max: 1_000 }) },
      { weight: 1, arbitrary: fc.constant(Number.MAX_SAFE_INTEGER - 5) },
    ),
    repeatAt: fc.option(fc.nat({ max: 11 }), { freq: 10 }),
    telemetry,
    wrapper: fc.oneof(
      { weight: 30, arbitrary: fc.constant("object") },
      { weight: 1, arbitrary: fc.constantFrom("array", "null", "string", "class", "no-prototype") },
    ),
  })
  .map(({ shapes, start, repeatAt, telemetry, wrapper }) => {
    const body: Record<string, unknown> = { ops: toOps(shapes, start, repeatAt) };
    if (telemetry !== "absent") body.telemetry = telemetry;
    switch (wrapper) {
      case "array":
        return [body];
      case "null":
        return null;
      case "string":
        return JSON.stringify(body);
      case "class":
        return Object.assign(new Point(), body);
      case "no-prototype":
        return Object.assign(Object.create(null), body);
      default:
        return body;
    }
  });

/** Both parsers over one input: same acceptance, output (fields, order, values) and issues. */
function expectSameAsSchema(input: unknown): "accepted" | "refused" {
  const schema = PushInput.safeParse(input);
  const fast = acceptPushInput(input);
  let parsed: unknown;
  let thrown: unknown;
  try {
    parsed = parsePushInput(input);
  } catch (error) {
    thrown = error;
  }
  if (schema.success) {
    expect(thrown).toBeUndefined();
    expect(parsed).toStrictEqual(schema.data);
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(schema.data));
    // The values travel as they came (the schema does not copy them either).
    const ops = (parsed as PushInput).ops;
    for (const [index, op] of ops.entries()) expect(op.value).toBe(schema.data.ops[index]?.value);
    if (fast !== null) expect(fast).toStrictEqual(schema.data);
    return "accepted";
  }
  expect(fast).toBeNull();
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as { issues?: unknown }).issues).toStrictEqual(schema.error.issues);
  expect((thrown as Error).message).toBe(schema.error.message);
  return "refused";
}

describe("isPlainJson, the fast path's check of a value", () => {
  it("answers exactly what JsonValue accepts, over JSON and everything JSON cannot carry", () => {
    const seen = { plain: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(oddNestedJson, oddLeaf, fc.jsonValue({ maxDepth: 4 })), (candidate) => {
        const accepted = JsonValue.safeParse(candidate).success;
        expect(isPlainJson(candidate)).toBe(accepted);
        seen[accepted ? "plain" : "refused"]++;
      }),
      { numRuns: 4_000 },
    );
    expect(seen.plain).toBeGreaterThan(400);
    expect(seen.refused).toBeGreaterThan(400);
  });
});

describe("parsePushInput, the push's fast path of PushInput", () => {
  it("accepts, answers and refuses exactly as PushInput does over many generated batches", () => {
    const seen = { accepted: 0, refused: 0, fast: 0 };
    fc.assert(
      fc.property(pushInput, (input) => {
        seen[expectSameAsSchema(input)]++;
        if (acceptPushInput(input) !== null) seen.fast++;
      }),
      { numRuns: 4_000 },
    );
    // Not a test of one side only: both outcomes, and the fast path itself, are exercised.
    expect(seen.accepted).toBeGreaterThan(400);
    expect(seen.refused).toBeGreaterThan(400);
    expect(seen.fast).toBeGreaterThan(300);
  });

  it("measures the batch as PushInput does, byte for byte, around MAX_BATCH_BYTES", () => {
    // Batches padded to within a few bytes of the limit: the fast path counts the ops' JSON
    // from their parts, the schema encodes the batch; they must agree on every side of it.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uuid(), anyText(20), fc.option(name), anyText(30)), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: -6, max: 6 }),
        fc.constantFrom("x", "é", "€", "😀", '"'),
        (parts, offset, pad) => {
          const ops = parts.map(([id, entityIdText, fieldName, text], index) => ({
            operationId: id,
            lamportTs: (index + 1) * 977,
            entity: "track",
            entityId: `e${entityIdText}`,
            field: fieldName ?? "title",
            op: "set",
            value: text,
          }));
          const fillers = Math.ceil(MAX_BATCH_BYTES / (MAX_VALUE_BYTES - 100)) + 1;
          for (let k = 0; k < fillers; k++) {
            ops.push({
              operationId: `00000000-0000-4000-8000-${k.toString(16).padStart(12, "0")}`,
              lamportTs: 10_000 + k,
              entity: "track",
              entityId: "filler",
              field: "title",
              op: "set",
              value: "",
            });
          }
          // Fill the fillers' values so that the batch is `offset` bytes from the limit.
          const padBytes = jsonByteLength(pad) - 2;
          let missing = MAX_BATCH_BYTES + offset - jsonByteLength({ ops });
          for (let k = ops.length - fillers; k < ops.length && missing > 0; k++) {
            const room = Math.min(MAX_VALUE_BYTES - 2, missing);
            const units = Math.floor(room / padBytes);
            const text = pad.repeat(units) + "x".repeat(room - units * padBytes);
            (ops[k] as { value: string }).value = text;
            missing -= jsonByteLength(text) - 2;
          }
          const input = { ops: ops.slice(0, MAX_OPS_PER_BATCH) };
          const outcome = expectSameAsSchema(input);
          const size = jsonByteLength({ ops: input.ops });
          if (outcome === "accepted") expect(size).toBeLessThanOrEqual(MAX_BATCH_BYTES);
        },
      ),
      { numRuns: 150 },
    );
  });
});
