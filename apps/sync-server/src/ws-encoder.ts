import { FANOUT_BIND, FANOUT_REGISTERED, type Subscriber } from "@chorus/api";
import { type Encoder, jsonEncoder } from "@trpc/server/adapters/ws";

/**
 * The WebSocket encoder of the sync server: JSON, as tRPC's own jsonEncoder, except that the
 * value a subscription yields is encoded once for every socket it reaches. When a push fans
 * out, every subscribed socket of the user is handed the same op object (the bus event's), and
 * tRPC's adapter encodes the whole message for each of them; here the op's JSON is kept beside
 * the object (a WeakMap: it goes when the op does) and each socket's message is its own small
 * envelope (its subscription id, the tracked id) around those same bytes.
 *
 * A message other than a tracked subscription value (`{ id, jsonrpc, result: { type: "data",
 * data: { id, data }, id } }`, the shape the adapter builds for `tracked()`) is encoded by
 * JSON.stringify as before. The output is byte for byte what JSON.stringify gives (the test
 * pins it), so clients see nothing different. Values are never changed after they are
 * published, which the cache relies on.
 *
 * A subscription handing itself to the server's fan-out yields its Subscriber once; the
 * encoder gives it the subscription's message id (from which the fan-out builds every later
 * message of that subscription) and answers FANOUT_REGISTERED, which the server's socket does
 * not send.
 */
const MESSAGE_KEYS = new Set(["id,jsonrpc,result", "id,result"]);

export function createSharedValueEncoder(): Encoder {
  const encoded = new WeakMap<object, string>();
  return {
    encode(message) {
      const { id, jsonrpc, result } = message as {
        id?: unknown;
        jsonrpc?: unknown;
        result?: { type?: unknown; id?: unknown; data?: unknown };
      };
      const data = result?.data;
      if (typeof data === "object" && data !== null && FANOUT_BIND in data) {
        (data as Subscriber)[FANOUT_BIND](id as number | string, jsonrpc);
        return FANOUT_REGISTERED;
      }
      const envelope = data as { id?: unknown; data?: unknown } | undefined;
      const value = envelope?.data;
      if (
        result?.type !== "data" ||
        typeof result.id !== "string" ||
        typeof value !== "object" ||
        value === null ||
        envelope?.id !== result.id ||
        (typeof id !== "number" && typeof id !== "string") ||
        // Exactly the adapter's keys, in its order: the output must be JSON.stringify's.
        !MESSAGE_KEYS.has(Object.keys(message as object).join()) ||
        Object.keys(result).join() !== "type,data,id" ||
        Object.keys(envelope).join() !== "id,data"
      ) {
        return JSON.stringify(message);
      }
      let json = encoded.get(value);
      if (json === undefined) {
        json = JSON.stringify(value);
        encoded.set(value, json);
      }
      const tracked = JSON.stringify(result.id);
      const rpc = jsonrpc === undefined ? "" : `,"jsonrpc":${JSON.stringify(jsonrpc)}`;
      return `{"id":${JSON.stringify(id)}${rpc},"result":{"type":"data","data":{"id":${tracked},"data":${json}},"id":${tracked}}}`;
    },
    decode: jsonEncoder.decode,
  };
}
