import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import { Harness } from "./harness.js";

// The server-wide keep-alive sweep (src/socket.ts) that replaced tRPC's per-socket timers: a
// socket idle for pingMs gets a text PING; one that sends nothing within pongWaitMs of it is
// terminated; one that answers stays.

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ connections: { pingMs: 200, pongWaitMs: 300 } });
});
afterAll(async () => {
  await h.close();
});

/** An authenticated raw socket that answers PING with PONG only when `answers`. */
async function peer(answers: boolean) {
  const device = await h.createDevice();
  const ws = new NodeWebSocket(`ws://${h.base}/trpc?connectionParams=1`);
  const state = { pings: 0, closed: false, closeCode: 0 };
  ws.on("message", (data) => {
    if (data.toString() !== "PING") return;
    state.pings++;
    if (answers) ws.send("PONG");
  });
  ws.on("close", (code) => {
    state.closed = true;
    state.closeCode = code;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ method: "connectionParams", data: { token: device.token } }));
  return { ws, state };
}

describe("keep-alive sweep", () => {
  it("terminates a peer that does not answer its PING and keeps one that does", async () => {
    const live = await peer(true);
    const dead = await peer(false);
    await waitUntil("the dead peer is closed", () => dead.state.closed);
    expect(dead.state.pings).toBeGreaterThanOrEqual(1);
    // Terminated (no close frame), not closed by the server for another reason.
    expect(dead.state.closeCode).toBe(1006);
    // The live peer answers ping after ping and stays open.
    await waitUntil("the live peer answered five PINGs", () => live.state.pings >= 5);
    expect(live.state.closed).toBe(false);
    expect(live.ws.readyState).toBe(NodeWebSocket.OPEN);
    live.ws.close();
  });
});
