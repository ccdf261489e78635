import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import {
  createGrpcMetrics,
  DEFAULT_MAX_MESSAGE_BYTES,
  type GrpcTlsOptions,
  RemoteKeystoreHandlers,
  SubstrateGrpcServer,
} from "../../grpc/index.js";
import {
  createHsmMetrics,
  cryptoReady,
  keyRefOf,
  openPkcs11Keys,
  Pkcs11BlockSchema,
  type Pkcs11KeySet,
  SubstrateKeystore,
} from "../../keys/index.js";
import { createProtectionMetrics, SubstrateProtection } from "../../protection/index.js";
import type { SignerService } from "../../signer/index.js";
import { isHex } from "../../util/hex.js";
import { ConfigError, ConfigErrorCode, pick, validateSection } from "../config.js";
import type { SignerContext, SignerSection } from "./section.js";

const HEX_KEY = z.string().refine((v) => isHex(v, 32) || isHex(v, 33), "must be 0x-hex of a 32- or 33-byte public key");

/** The `substrate:` key of the signer's YAML config (flags of the same meaning win). */
export const SubstrateConfigSchema = z
  .object({
    keystore: z.string().min(1).optional(),
    grpc: z
      .object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
        tls_cert: z.string().optional(),
        tls_key: z.string().optional(),
        client_ca: z.string().optional(),
        allow_clients: z.array(z.string().min(1)).optional(),
        allow_plaintext_remote: z.boolean().optional(),
        max_message_bytes: z
          .number()
          .int()
          .min(1024)
          .max(16 << 20)
          .optional(),
      })
      .strict()
      .optional(),
    keys: z
      .array(
        z
          .object({
            public_key: HEX_KEY,
            /** false: sign BABE seals / BEEFY votes of this key without their payload (unprotected!). */
            require_payload: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    /** ed25519 keys in PKCS#11 tokens (GRANDPA's `gran`): the token signs, the keystore folder holds no secret. */
    pkcs11_keys: z
      .array(
        z
          .object({
            key_type: z.string().regex(/^[\x21-\x7e]{4}$/, "four ASCII characters"),
            pkcs11: Pkcs11BlockSchema,
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export type SubstrateConfig = z.infer<typeof SubstrateConfigSchema>;

interface SubstrateFlags {
  substrateKeystore?: string;
  grpcHost?: string;
  grpcPort?: number;
  grpcTlsCert?: string;
  grpcTlsKey?: string;
  grpcClientCa?: string;
  grpcAllowClient?: string[];
  grpcAllowPlaintextRemote?: boolean;
}

function parsePort(v: string): number {
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError("must be a port number 0-65535");
  return Number(v);
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function readFile(file: string, what: string, configFile: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(
      { code: ConfigErrorCode.Unreadable, file: configFile, path: what },
      `cannot read ${what} ${file}: ${(e as Error).message}`,
    );
  }
}

/** `slashguard signer --substrate-keystore DIR …`: the gRPC RemoteKeystore over the shared store. */
export const substrateSection: SignerSection = {
  name: "substrate",

  addOptions(cmd: Command): void {
    cmd
      .option(
        "--substrate-keystore <dir>",
        "Substrate keystore folder (files hex(key type)+hex(public key)); enables gRPC",
      )
      .option("--grpc-host <host>", "gRPC listen address (default 127.0.0.1)")
      .option("--grpc-port <n>", "gRPC port (default 50051; 0 picks a free one)", parsePort)
      .option("--grpc-tls-cert <file>", "gRPC TLS certificate (PEM)")
      .option("--grpc-tls-key <file>", "gRPC TLS private key (PEM)")
      .option("--grpc-client-ca <file>", "CA of client certificates: requires mTLS")
      .option(
        "--grpc-allow-client <id>",
        "allowed client certificate: SHA-256 fingerprint or CN=name (repeatable)",
        collect,
      )
      .option("--grpc-allow-plaintext-remote", "allow plaintext gRPC on a non-loopback address (not recommended)");
  },

  async start(ctx: SignerContext): Promise<SignerService | null> {
    const flags = ctx.flags as SubstrateFlags;
    const cfg = validateSection(SubstrateConfigSchema, ctx.config.substrate, ctx.configFile, "substrate");
    const dir = pick(flags.substrateKeystore, cfg.keystore, undefined);
    if (dir === undefined) return null;
    const g = cfg.grpc ?? {};
    const certFile = pick(flags.grpcTlsCert, g.tls_cert, undefined);
    const keyFile = pick(flags.grpcTlsKey, g.tls_key, undefined);
    const caFile = pick(flags.grpcClientCa, g.client_ca, undefined);
    if ((certFile === undefined) !== (keyFile === undefined) || (caFile !== undefined && certFile === undefined)) {
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file: ctx.configFile, path: "substrate.grpc" },
        "gRPC TLS needs both --grpc-tls-cert and --grpc-tls-key (and them for --grpc-client-ca)",
      );
    }
    const tls: GrpcTlsOptions | null =
      certFile === undefined || keyFile === undefined
        ? null
        : {
            cert: readFile(certFile, "substrate.grpc.tls_cert", ctx.configFile),
            key: readFile(keyFile, "substrate.grpc.tls_key", ctx.configFile),
            clientCa: caFile === undefined ? null : readFile(caFile, "substrate.grpc.client_ca", ctx.configFile),
          };
    const noPayloadCheck = new Set(
      (cfg.keys ?? []).filter((k) => k.require_payload === false).map((k) => k.public_key.toLowerCase()),
    );

    await cryptoReady();
    const logger = ctx.logger.child({ chain: "substrate" });
    const keystore = SubstrateKeystore.open(dir, logger);
    const hsmRefs = (cfg.pkcs11_keys ?? []).map((k) => ({
      keyType: k.key_type,
      // relative paths as the section's others (keystore, TLS files): from the working folder
      ref: keyRefOf(k.pkcs11, process.cwd()),
    }));
    let hsm: Pkcs11KeySet | null = null;
    if (hsmRefs.length > 0) {
      hsm = await openPkcs11Keys(
        hsmRefs.map((k) => k.ref),
        {},
        { logger, metrics: createHsmMetrics(ctx.registry) },
      );
      for (const [i, k] of hsm.keys.entries()) {
        const pair = { crypto: "ed25519" as const, publicKey: k.publicKey, sign: (m: Uint8Array) => k.sign(m) };
        keystore.addExternal(hsmRefs[i]!.keyType, pair);
      }
    }
    const protection = new SubstrateProtection(
      {},
      { store: ctx.store, logger, metrics: createProtectionMetrics(ctx.registry), events: ctx.events },
    );
    await protection.registerKeys(keystore.list().filter((k) => ["gran", "babe", "para", "beef"].includes(k.keyType)));
    for (const k of noPayloadCheck)
      logger.warn("BABE seals of this key are signed without protection", { publicKey: k });
    const maxMessageBytes = g.max_message_bytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const handlers = new RemoteKeystoreHandlers(
      { maxMessageBytes, requirePayload: (hex) => !noPayloadCheck.has(hex) },
      { keystore, protection, logger },
    );
    let server: SubstrateGrpcServer;
    try {
      server = await SubstrateGrpcServer.start(
        {
          host: pick(flags.grpcHost, g.host, "127.0.0.1"),
          port: pick(flags.grpcPort, g.port, 50051),
          tls,
          allowClients: flags.grpcAllowClient ?? g.allow_clients ?? [],
          allowPlaintextRemote: pick(flags.grpcAllowPlaintextRemote, g.allow_plaintext_remote, false),
          maxMessageBytes,
        },
        { handlers, logger, metrics: createGrpcMetrics(ctx.registry) },
      );
    } catch (e) {
      await protection.close();
      await hsm?.close();
      throw e;
    }
    logger.info("Substrate RemoteKeystore listening", {
      address: server.address,
      keys: keystore.size,
      tls: tls !== null,
    });
    return {
      name: "substrate",
      describe: () => [
        `gRPC RemoteKeystore listening on ${server.address} (${tls === null ? "plaintext" : caFile === undefined ? "TLS" : "mTLS"})`,
        `${keystore.size} keys from ${dir}`,
      ],
      health: async () => {
        const checks = { grpc: { ok: true, detail: server.address }, ...hsm?.health() };
        return { ok: Object.values(checks).every((c) => c.ok), checks };
      },
      stop: async () => {
        await server.stop();
        await protection.close();
        await hsm?.close();
      },
    };
  },
};
