import WebSocket from "ws";

/**
 * A device's WebSocket speaking tRPC v11's wire protocol directly (what wsLink sends):
 * `?connectionParams=1` and a first `connectionParams` message carrying the token, then
 * `subscription` requests by id; the server's keep-alive PING is answered with PONG. A
 * thousand wsLink clients would measure the client library as much as the server; this keeps
 * the load generator light and the same for the baseline.
 */
export type DataListener = (message: string, receivedAt: number) => void;

export interface TrpcSocket {
  /** One query or mutation over the socket (as wsLink sends it); resolves with its data. */
  call(method: "query" | "mutation", path: string, input: unknown): Promise<unknown>;
  /** Starts a subscription; resolves when the server says it started. */
  subscribe(path: string, input: unknown, onData: DataListener, timeoutMs?: number): Promise<void>;
  readonly isOpen: boolean;
  /** Drops the connection at once (no close handshake: no TIME_WAIT on our side). */
  terminate(): void;
}

/** Where the client end of a socket binds: a loopback address of its own (127.0.0.x). */
export interface SocketOptions {
  /**
   * One source address has ~28,000 ephemeral ports towards one server port; tens of thousands
   * of sockets are spread over several loopback addresses.
   */
  localAddress?: string;
}

export function connectTrpcSocket(
  url: string,
  token: string,
  now: () => number,
  timeoutMs = 15_000,
  options: SocketOptions = {},
): Promise<TrpcSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}?connectionParams=1`, {
      perMessageDeflate: false,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket to ${url} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    const started = new Map<number, { resolve(): void; reject(error: Error): void }>();
    const listeners = new Map<number, DataListener>();
    const calls = new Map<number, { resolve(data: unknown): void; reject(error: Error): void }>();
    let nextId = 1;

    ws.on("message", (data, isBinary) => {
      const receivedAt = now();
      const text = isBinary ? "" : data.toString();
      if (text === "PING") {
        ws.send("PONG");
        return;
      }
      // Cheap routing without parsing the whole message: ids are small integers up front.
      const match = /^\{"id":(\d+)/.exec(text);
      const id = match ? Number(match[1]) : Number.NaN;
      const call = calls.get(id);
      if (call) {
        calls.delete(id);
        const answer = JSON.parse(text) as { result?: { data?: unknown }; error?: unknown };
        if (answer.error) call.reject(new Error(`call refused: ${text.slice(0, 300)}`));
        else call.resolve(answer.result?.data);
        return;
      }
      const waiter = started.get(id);
      if (waiter) {
        if (text.includes('"type":"started"')) {
          started.delete(id);
          waiter.resolve();
          return;
        }
        if (text.includes('"error"')) {
          started.delete(id);
          waiter.reject(new Error(`subscription refused: ${text.slice(0, 300)}`));
          return;
        }
      }
      listeners.get(id)?.(text, receivedAt);
    });
    ws.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once("close", () => {
      for (const waiter of [...started.values(), ...calls.values()]) {
        waiter.reject(new Error("socket closed"));
      }
      started.clear();
      calls.clear();
    });
    ws.once("open", () => {
      clearTimeout(timer);
      ws.send(JSON.stringify({ method: "connectionParams", data: { token } }));
      resolve({
        get isOpen() {
          return ws.readyState === WebSocket.OPEN;
        },
        call(method, path, input) {
          const id = nextId++;
          return new Promise((resolveCall, rejectCall) => {
            calls.set(id, { resolve: resolveCall, reject: rejectCall });
            ws.send(JSON.stringify({ id, method, params: { path, input } }));
          });
        },
        subscribe(path, input, onData, subscribeTimeoutMs = 30_000) {
          const id = nextId++;
          listeners.set(id, onData);
          return new Promise<void>((resolveStarted, rejectStarted) => {
            const startTimer = setTimeout(() => {
              started.delete(id);
              rejectStarted(
                new Error(`subscription ${path} did not start in ${subscribeTimeoutMs} ms`),
              );
            }, subscribeTimeoutMs);
            started.set(id, {
              resolve: () => {
                clearTimeout(startTimer);
                resolveStarted();
              },
              reject: (error) => {
                clearTimeout(startTimer);
                rejectStarted(error);
              },
            });
            ws.send(JSON.stringify({ id, method: "subscription", params: { path, input } }));
          });
        },
        terminate: () => ws.terminate(),
      });
    });
  });
}

/** A plain socket to the raw baseline server; every message goes to `onData`. */
export function connectRawSocket(
  url: string,
  onData: DataListener,
  now: () => number,
  timeoutMs = 15_000,
  options: SocketOptions = {},
): Promise<{ terminate(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket to ${url} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on("message", (data) => onData(data.toString(), now()));
    ws.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once("open", () => {
      clearTimeout(timer);
      resolve({ terminate: () => ws.terminate() });
    });
  });
}
