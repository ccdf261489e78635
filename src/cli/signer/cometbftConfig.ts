import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { StateFileFormat } from "../../chains/cometbft/index.js";
import { MAX_CHAIN_ID_BYTES } from "../../chains/cometbft/index.js";
import { keyRefOf, Pkcs11BlockSchema, type Pkcs11KeyRef } from "../../keys/index.js";
import {
  DEFAULT_SESSION_TIMING,
  type NodeAddress,
  type NodeSessionOptions,
  parseNodeAddress,
} from "../../privval/index.js";
import { redactUrl } from "../../store/index.js";
import { errorMessage } from "../../util/errors.js";
import { ConfigError, ConfigErrorCode, readYamlFile, validateSection } from "../config.js";
import { parseDuration } from "../options.js";

export interface CometChainConfig {
  chainId: string;
  /** priv_validator_key.json, or null when the key is in a PKCS#11 token (`key: {pkcs11: …}`). */
  keyFile: string | null;
  pkcs11: Pkcs11KeyRef | null;
  stateFile: string | null;
  stateFormat: StateFileFormat | null;
  pubKeyLayout: "both" | "v0.38" | "v1";
  nodes: NodeAddress[];
}

export interface CometConfig {
  file: string;
  db: string | null;
  chains: CometChainConfig[];
  timing: Omit<NodeSessionOptions, "chainId" | "address">;
}

const duration = z.union([z.string(), z.number().int().nonnegative()]).transform((v, ctx) => {
  try {
    return typeof v === "number" ? v : parseDuration(v);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a duration such as 500ms, 3s or 1m" });
    return z.NEVER;
  }
});

const chainSchema = z.strictObject({
  chain_id: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s) <= MAX_CHAIN_ID_BYTES, "at most 50 bytes"),
  key_file: z.string().min(1).optional(),
  key: z.strictObject({ pkcs11: Pkcs11BlockSchema }).optional(),
  state_file: z.string().min(1).optional(),
  state_format: z.enum(["auto", "filepv", "horcrux", "tmkms"]).optional(),
  pubkey_response: z.enum(["both", "v0.38", "v1"]).optional(),
  nodes: z.array(z.string()).min(1),
});

const schema = z.strictObject({
  db: z.string().min(1).optional(),
  chains: z.array(chainSchema).min(1),
  timeouts: z
    .strictObject({
      connect: duration.optional(),
      handshake: duration.optional(),
      idle: duration.optional(),
      retry_min: duration.optional(),
      retry_max: duration.optional(),
    })
    .optional(),
  max_request_bytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(64 << 20)
    .optional(),
});

/** Reads and validates the CometBFT signer config; file paths in it are relative to the file. */
export function loadCometConfig(file: string): CometConfig {
  return parseCometConfig(readYamlFile(file), file);
}

export function parseCometConfig(doc: unknown, file: string): CometConfig {
  const c = validateSection(schema, doc, file, "");
  const base = dirname(resolve(file));
  const seen = new Set<string>();
  const chains = c.chains.map((ch, i): CometChainConfig => {
    if (seen.has(ch.chain_id))
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file, path: `chains.${i}.chain_id` },
        `config ${file}: chain ${ch.chain_id} is listed twice`,
      );
    seen.add(ch.chain_id);
    if ((ch.key_file === undefined) === (ch.key === undefined))
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file, path: `chains.${i}.key_file` },
        `config ${file}: chain ${ch.chain_id} needs exactly one of key_file and key: {pkcs11: …}`,
      );
    const nodes = ch.nodes.map((n, j) => {
      try {
        return parseNodeAddress(n);
      } catch (e) {
        throw new ConfigError(
          { code: ConfigErrorCode.Invalid, file, path: `chains.${i}.nodes.${j}` },
          `config ${file}: ${errorMessage(e)}`,
        );
      }
    });
    return {
      chainId: ch.chain_id,
      keyFile: ch.key_file === undefined ? null : resolve(base, ch.key_file),
      pkcs11: ch.key === undefined ? null : keyRefOf(ch.key.pkcs11, base),
      stateFile: ch.state_file === undefined ? null : resolve(base, ch.state_file),
      stateFormat: ch.state_format === undefined || ch.state_format === "auto" ? null : ch.state_format,
      pubKeyLayout: ch.pubkey_response ?? "both",
      nodes,
    };
  });
  const t = c.timeouts ?? {};
  return {
    file,
    db: c.db ?? null,
    chains,
    timing: {
      maxRequestBytes: c.max_request_bytes ?? DEFAULT_SESSION_TIMING.maxRequestBytes,
      connectTimeoutMs: t.connect ?? DEFAULT_SESSION_TIMING.connectTimeoutMs,
      handshakeTimeoutMs: t.handshake ?? DEFAULT_SESSION_TIMING.handshakeTimeoutMs,
      idleTimeoutMs: t.idle ?? DEFAULT_SESSION_TIMING.idleTimeoutMs,
      retryMinMs: t.retry_min ?? DEFAULT_SESSION_TIMING.retryMinMs,
      retryMaxMs: t.retry_max ?? DEFAULT_SESSION_TIMING.retryMaxMs,
    },
  };
}

/** The same database whatever the spelling: SQLite paths resolved, PostgreSQL URLs without passwords. */
export function sameStoreUrl(a: string, b: string): boolean {
  const norm = (u: string): string => {
    if (u.startsWith("sqlite:")) return `sqlite:${resolve(u.slice("sqlite:".length).replace(/^\/\/(?=\/)/, ""))}`;
    return redactUrl(u.replace(/^postgresql:/, "postgres:"));
  };
  return norm(a) === norm(b);
}
