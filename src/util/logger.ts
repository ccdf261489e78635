import { pino } from "pino";

export type LogContext = Record<string, unknown>;

/** The one logging interface of the domain (lodestar style): constant message, data in context. */
export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext, error?: unknown): void;
  error(message: string, context?: LogContext, error?: unknown): void;
  child(bindings: LogContext): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

// Fields that must never reach a log line, whatever a caller passes.
const REDACT = [
  "password",
  "passwords",
  "secret",
  "secretKey",
  "privateKey",
  "priv_key",
  "token",
  "authorization",
  "*.password",
  "*.secret",
  "*.secretKey",
  "*.privateKey",
  "*.priv_key",
  "*.token",
  "*.authorization",
  "req.headers.authorization",
];

export interface PinoLike {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child(bindings: object): PinoLike;
}

class PinoLogger implements Logger {
  constructor(private readonly p: PinoLike) {}

  debug(message: string, context: LogContext = {}): void {
    this.p.debug(safe(context), message);
  }

  info(message: string, context: LogContext = {}): void {
    this.p.info(safe(context), message);
  }

  warn(message: string, context: LogContext = {}, error?: unknown): void {
    this.p.warn(withError(context, error), message);
  }

  error(message: string, context: LogContext = {}, error?: unknown): void {
    this.p.error(withError(context, error), message);
  }

  child(bindings: LogContext): Logger {
    return new PinoLogger(this.p.child(safe(bindings)));
  }
}

function safe(context: LogContext): LogContext {
  const out: LogContext = {};
  for (const [k, v] of Object.entries(context)) out[k] = typeof v === "bigint" ? v.toString() : v;
  return out;
}

function withError(context: LogContext, error: unknown): LogContext {
  if (error === undefined) return safe(context);
  const err =
    error instanceof Error
      ? { type: error.name, message: error.message, code: (error as { code?: unknown }).code }
      : { message: String(error) };
  return { ...safe(context), err };
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Destination file descriptor; 2 (stderr) keeps stdout free for command output. */
  fd?: number;
}

export function createLogger(opts: LoggerOptions = {}): { logger: Logger; pino: pino.Logger } {
  const p = pino(
    { level: opts.level ?? "info", redact: { paths: REDACT, censor: "[redacted]" }, base: { pid: process.pid } },
    pino.destination({ fd: opts.fd ?? 2, sync: false }),
  );
  return { logger: new PinoLogger(p), pino: p };
}

/** A logger that drops everything (tests, library use). */
export const nullLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nullLogger,
};

/** Truncated public key for log bindings (never a secret, but keeps lines short). */
export function shortKey(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 10)}…${hex.slice(-4)}` : hex;
}
