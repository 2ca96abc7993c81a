import net from "node:net";

/** Whether a Redis answers PING at `url` within `timeoutMs` (a reason when it does not). */
export function pingRedis(url: string, timeoutMs = 2_000): Promise<string | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || "127.0.0.1", port: Number(port) || 6379 });
    const done = (reason: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(
      () => done(`no answer from Redis at ${url} in ${timeoutMs} ms`),
      timeoutMs,
    );
    socket.once("error", (error) => done(`Redis at ${url} is unreachable: ${error.message}`));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) =>
      done(
        data.toString().startsWith("+PONG") || data.toString().startsWith("-NOAUTH")
          ? null
          : `unexpected answer from Redis: ${data.toString().trim()}`,
      ),
    );
  });
}
