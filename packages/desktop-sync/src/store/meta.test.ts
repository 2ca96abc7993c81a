import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Profile } from "../profiles.js";
import { openTempProfile } from "../test-support.js";
import { deleteMeta, readMeta, writeMeta } from "./meta.js";

let fixture: ReturnType<typeof openTempProfile>;
let profile: Profile;
beforeEach(() => {
  fixture = openTempProfile();
  ({ profile } = fixture);
});
afterEach(() => fixture.dispose());

describe("sync_meta access", () => {
  it("compiles its statements once per database, not on every read and write of a value", () => {
    const { db } = profile;
    writeMeta(db, "cursor", "0");
    readMeta(db, "cursor");
    deleteMeta(db, "email");
    const prepare = db.prepare.bind(db);
    let compiled = 0;
    db.prepare = ((source: string) => {
      compiled += 1;
      return prepare(source);
    }) as typeof db.prepare;
    for (let i = 1; i <= 100; i++) {
      writeMeta(db, "cursor", String(i));
      expect(readMeta(db, "cursor")).toBe(String(i));
      deleteMeta(db, "email");
    }
    expect(compiled).toBe(0);
    expect(readMeta(db, "email")).toBeUndefined();
  });
});
