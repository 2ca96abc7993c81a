/**
 * Main-process logging: one line of JSON per event, with its context, on stderr (where
 * Electron's own logs go).
 */
type Level = "info" | "warn" | "error";

export interface Logger {
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

function write(level: Level, message: string, context: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...context });
  console.error(line);
}

export const log: Logger = {
  info: (message, context) => write("info", message, context),
  warn: (message, context) => write("warn", message, context),
  error: (message, context) => write("error", message, context),
};
