import { InvalidArgumentError } from "commander";
import type { KdfOptions } from "../keys/index.js";
import { DB_DURABILITY_LEVELS, type DbDurability, DEFAULT_STORE_URL } from "../store/index.js";
import { isHex } from "../util/hex.js";
import type { LogLevel } from "../util/logger.js";

export const DB_OPTION = [
  "--db <url>",
  "store: sqlite:PATH or postgres://user@host/db",
  process.env.SLASHGUARD_DB ?? DEFAULT_STORE_URL,
] as const;
export const LOG_LEVEL_OPTION = ["--log-level <level>", "debug, info, warn, error or silent"] as const;

export function parseGenesisRoot(v: string): Uint8Array {
  if (!isHex(v, 32)) throw new InvalidArgumentError("must be 0x-hex of 32 bytes");
  return new Uint8Array(Buffer.from(v.slice(2), "hex"));
}

export function parsePubkey(v: string, prev: Uint8Array[] = []): Uint8Array[] {
  if (!isHex(v, 48)) throw new InvalidArgumentError("must be a 0x-hex BLS public key of 48 bytes");
  return [...prev, new Uint8Array(Buffer.from(v.slice(2), "hex"))];
}

export function parseBigIntArg(v: string): bigint {
  if (!/^[0-9]{1,20}$/.test(v)) throw new InvalidArgumentError("must be a non-negative integer");
  return BigInt(v);
}

export function parsePositiveInt(v: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new InvalidArgumentError("must be a positive integer");
  return Number(v);
}

/** A TCP port; 0 asks the system for a free one (tests). */
export function parsePort(v: string): number {
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError("must be a port number 0-65535");
  return Number(v);
}

export function parseLogLevel(v: string): LogLevel {
  if (!["debug", "info", "warn", "error", "silent"].includes(v)) throw new InvalidArgumentError("unknown level");
  return v as LogLevel;
}

/** Durations such as 15s, 500ms, 2m, 1h, or plain milliseconds. */
export function parseDuration(v: string): number {
  const m = /^([0-9]+)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError("must be a duration such as 500ms, 15s, 2m or 1h");
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  return n * (unit === "h" ? 3_600_000 : unit === "m" ? 60_000 : unit === "s" ? 1000 : 1);
}

/** --db-durability / db_durability: local or replicated (store/pgDurability.ts). */
export function parseDbDurability(v: string): DbDurability {
  if (!(DB_DURABILITY_LEVELS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${DB_DURABILITY_LEVELS.join(", ")}`);
  return v as DbDurability;
}

/** `--kdf scrypt|pbkdf2` of the commands that write keystores. */
export function parseKdf(v: string): KdfOptions["kdf"] {
  if (v !== "scrypt" && v !== "pbkdf2") throw new InvalidArgumentError("must be scrypt or pbkdf2");
  return v;
}

/** `--kdf` and `--kdf-work` as the keystore writer takes them (no work: the EIP-2335 default). */
export function kdfOptions(o: { kdf: KdfOptions["kdf"]; kdfWork?: number }): KdfOptions {
  return o.kdfWork === undefined ? { kdf: o.kdf } : { kdf: o.kdf, work: o.kdfWork };
}
