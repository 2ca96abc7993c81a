import { describe, expect, it } from "vitest";
import { isRendererUrl, judgeSender, type TrustedRenderer } from "./sender-guard.js";

const built: TrustedRenderer = {
  webContentsIds: new Set([7]),
  entryUrl: "file:///opt/Chorus/resources/app/out/renderer/index.html",
};
const dev: TrustedRenderer = { webContentsIds: new Set([7]), entryUrl: "http://localhost:5173" };

describe("judgeSender", () => {
  it("trusts the top frame of our window showing our renderer", () => {
    expect(
      judgeSender({ webContentsId: 7, isMainFrame: true, frameUrl: `${built.entryUrl}#/` }, built),
    ).toEqual({ trusted: true });
    expect(
      judgeSender(
        { webContentsId: 7, isMainFrame: true, frameUrl: "http://localhost:5173/index.html" },
        dev,
      ),
    ).toEqual({ trusted: true });
  });

  it("refuses a webContents that is not one of our windows", () => {
    const verdict = judgeSender(
      { webContentsId: 8, isMainFrame: true, frameUrl: built.entryUrl },
      built,
    );
    expect(verdict).toMatchObject({ trusted: false, reason: expect.stringContaining("8") });
  });

  it("refuses a subframe, even one at our own URL", () => {
    expect(
      judgeSender({ webContentsId: 7, isMainFrame: false, frameUrl: built.entryUrl }, built),
    ).toMatchObject({ trusted: false });
  });

  it("refuses our window after it navigated elsewhere, or when the frame is gone", () => {
    for (const frameUrl of [
      "https://evil.example/",
      "file:///tmp/other.html",
      "http://localhost:5174/",
      undefined,
    ]) {
      expect(judgeSender({ webContentsId: 7, isMainFrame: true, frameUrl }, built)).toMatchObject({
        trusted: false,
      });
    }
    expect(
      judgeSender({ webContentsId: 7, isMainFrame: true, frameUrl: "http://localhost:5174/" }, dev),
    ).toMatchObject({ trusted: false });
  });
});

describe("isRendererUrl", () => {
  it("matches file:// by exact path, since every file URL has the opaque origin", () => {
    expect(
      isRendererUrl("file:///a/out/renderer/index.html?x=1", "file:///a/out/renderer/index.html"),
    ).toBe(true);
    expect(
      isRendererUrl("file:///a/out/renderer/evil.html", "file:///a/out/renderer/index.html"),
    ).toBe(false);
    expect(isRendererUrl("not a url", "file:///a/index.html")).toBe(false);
  });
});
