import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { SubstrateError } from "../chains/substrate/index.js";
import { AppError, isAppError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import type { HandlerResult, RemoteKeystoreHandlers } from "./handlers.js";
import type { GrpcMetrics } from "./metrics.js";
import { RemoteKeystoreError } from "./wire.js";

export const PROTO_PATH = fileURLToPath(new URL("./substrate-remote-keystore.proto", import.meta.url));
export const PACKAGE = "parity.polkadot.signer";
/** Default frame limit: a seal, a vote or a statement is tiny; 1 MiB leaves room and bounds memory. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

export interface GrpcTlsOptions {
  cert: Buffer;
  key: Buffer;
  /** CA of client certificates; when set, every client must present a certificate it signed (mTLS). */
  clientCa: Buffer | null;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  tls: GrpcTlsOptions | null;
  /** Client certificates allowed (SHA-256 fingerprint hex, or CN=name); empty: any the CA signed. */
  allowClients: readonly string[];
  /** Plaintext on a non-loopback address only when the operator says so. */
  allowPlaintextRemote: boolean;
  maxMessageBytes: number;
}

export interface GrpcServerModules {
  handlers: RemoteKeystoreHandlers;
  logger: Logger;
  metrics: GrpcMetrics | null;
}

export enum GrpcServerErrorCode {
  PlaintextRemote = "ERR_GRPC_PLAINTEXT_REMOTE",
  Bind = "ERR_GRPC_BIND",
}

export class GrpcServerError extends AppError<{ code: GrpcServerErrorCode; address: string }> {}

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: true,
  });
}

const LOOPBACK_RE = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK_RE.test(host);
}

const ENUM_NAMES: Record<number, string> = {
  [RemoteKeystoreError.KeyNotSupported]: "KEY_NOT_SUPPORTED",
  [RemoteKeystoreError.PairNotFound]: "PAIR_NOT_FOUND",
  [RemoteKeystoreError.ValidationError]: "VALIDATION_ERROR",
  [RemoteKeystoreError.Unavailable]: "UNAVAILABLE",
  [RemoteKeystoreError.Other]: "OTHER",
};

type Handler = (req: never) => HandlerResult<unknown> | Promise<HandlerResult<unknown>>;

/**
 * The Substrate RemoteKeystore gRPC server: both keystore services, health and reflection, TLS with an
 * optional client-certificate allow-list. Typed errors travel in the reply's error enum (as the proto
 * says) and, with their code, in the trailers `slashguard-code` / `slashguard-message`.
 */
export class SubstrateGrpcServer {
  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    readonly address: string,
  ) {}

  static async start(opts: GrpcServerOptions, modules: GrpcServerModules): Promise<SubstrateGrpcServer> {
    const address = `${opts.host.includes(":") && !opts.host.startsWith("[") ? `[${opts.host}]` : opts.host}:${opts.port}`;
    if (opts.tls === null && !isLoopback(opts.host) && !opts.allowPlaintextRemote) {
      throw new GrpcServerError(
        { code: GrpcServerErrorCode.PlaintextRemote, address },
        `refusing plaintext gRPC on ${address}: give --grpc-tls-cert/--grpc-tls-key (and --grpc-client-ca), or allow plaintext explicitly`,
      );
    }
    const def = loadPackageDefinition();
    type Services = Record<"RemoteKeystore" | "RemoteKeystoreV2", { service: grpc.ServiceDefinition }>;
    const pkg = grpc.loadPackageDefinition(def) as unknown as { parity: { polkadot: { signer: Services } } };
    const ns = pkg.parity.polkadot.signer;
    const server = new grpc.Server({
      "grpc.max_receive_message_length": opts.maxMessageBytes,
      "grpc.max_send_message_length": opts.maxMessageBytes,
    });
    const h = modules.handlers;
    const wrap = (method: string, fn: Handler): grpc.handleUnaryCall<unknown, unknown> =>
      unary(method, fn, opts, modules);
    server.addService(ns.RemoteKeystore.service, {
      Sr25519PublicKeys: wrap("Sr25519PublicKeys", (r) => h.publicKeys("sr25519", r)),
      Ed25519PublicKeys: wrap("Ed25519PublicKeys", (r) => h.publicKeys("ed25519", r)),
      EcdsaPublicKeys: wrap("EcdsaPublicKeys", (r) => h.publicKeys("ecdsa", r)),
      Sr25519GenerateNew: wrap("Sr25519GenerateNew", (r) => h.generateNew("sr25519", r)),
      Ed25519GenerateNew: wrap("Ed25519GenerateNew", (r) => h.generateNew("ed25519", r)),
      EcdsaGenerateNew: wrap("EcdsaGenerateNew", (r) => h.generateNew("ecdsa", r)),
      Sr25519VrfSign: wrap("Sr25519VrfSign", (r) => h.vrfSign(r)),
      SignWith: wrap("SignWith", (r) => h.signWith(r)),
      SignWithAny: wrap("SignWithAny", (r) => h.signWithAny(r)),
      SignWithAll: wrap("SignWithAll", (r) => h.signWithAll(r)),
    });
    server.addService(ns.RemoteKeystoreV2.service, {
      HasKeys: wrap("HasKeys", (r) => h.hasKeys(r)),
      Keys: wrap("Keys", (r) => h.keys(r)),
      Insert: wrap("Insert", (r) => h.insert(r)),
      EcdsaSignPrehashed: wrap("EcdsaSignPrehashed", (r) => h.ecdsaSignPrehashed(r)),
      SignWith: wrap("V2.SignWith", (r) => h.signWith(r)),
    });
    new HealthImplementation({
      "": "SERVING",
      [`${PACKAGE}.RemoteKeystore`]: "SERVING",
      [`${PACKAGE}.RemoteKeystoreV2`]: "SERVING",
    }).addToServer(server);
    new ReflectionService(def).addToServer(server);

    const creds =
      opts.tls === null
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(
            opts.tls.clientCa,
            [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }],
            opts.tls.clientCa !== null,
          );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, creds, (err, p) =>
        err === null
          ? resolve(p)
          : reject(
              new GrpcServerError(
                { code: GrpcServerErrorCode.Bind, address },
                `cannot listen on ${address}: ${err.message}`,
              ),
            ),
      ),
    );
    const host = opts.host.includes(":") && !opts.host.startsWith("[") ? `[${opts.host}]` : opts.host;
    return new SubstrateGrpcServer(server, port, `${host}:${port}`);
  }

  /** Stops taking calls and waits (bounded) for the ones in flight. */
  async stop(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

function unary(
  method: string,
  fn: Handler,
  opts: GrpcServerOptions,
  modules: GrpcServerModules,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const started = performance.now();
    const done = (result: string): void => {
      modules.metrics?.requests.inc({ method, result });
      modules.metrics?.seconds.observe({ method }, (performance.now() - started) / 1000);
    };
    if (!clientAllowed(call, opts)) {
      done("PERMISSION_DENIED");
      callback({
        code: grpc.status.PERMISSION_DENIED,
        details: "ERR_GRPC_CLIENT_NOT_ALLOWED: client certificate not in the allow-list",
      });
      return;
    }
    Promise.resolve()
      .then(() => fn(call.request as never))
      .then((r) => {
        const trailer = new grpc.Metadata();
        const codes = r.errors.filter(isAppError).map((e) => e.code);
        if (codes.length > 0) {
          trailer.set("slashguard-code", codes.join(","));
          trailer.set("slashguard-message", oneLine((r.errors.find(isAppError) as AppError).message));
        }
        for (const e of r.errors) {
          if (!isAppError(e)) modules.logger.error("Unexpected error in a RemoteKeystore call", { method }, e);
        }
        done(resultOf(r.reply) ?? (codes[0] === undefined ? "ok" : "error"));
        callback(null, r.reply, trailer);
      })
      // .catch, not a second .then argument: a throw while answering must answer too, never reject unhandled
      .catch((e: unknown) => {
        // Only input that the reply cannot carry an error for lands here (e.g. a bad key type on PublicKeys).
        if (e instanceof SubstrateError || isAppError(e)) {
          done("INVALID_ARGUMENT");
          callback({ code: grpc.status.INVALID_ARGUMENT, details: oneLine(e.message) });
        } else {
          modules.logger.error("Unexpected error in a RemoteKeystore call", { method }, e);
          done("INTERNAL");
          callback({ code: grpc.status.INTERNAL, details: "internal error" });
        }
      });
  };
}

function resultOf(reply: unknown): string | undefined {
  const r = reply as { error?: number; signature?: { error?: number }; signatures?: { error?: number }[] };
  const e = r.error ?? r.signature?.error ?? r.signatures?.find((s) => (s.error ?? 0) !== 0)?.error;
  return e === undefined || e === 0 ? undefined : ENUM_NAMES[e];
}

function clientAllowed(call: grpc.ServerUnaryCall<unknown, unknown>, opts: GrpcServerOptions): boolean {
  if (opts.tls === null || opts.allowClients.length === 0) return true;
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (cert === undefined || cert === null || !("fingerprint256" in cert)) return false;
  const fp = cert.fingerprint256.replace(/:/g, "").toLowerCase();
  const cn = cert.subject?.CN;
  return opts.allowClients.some(
    (a) => a.replace(/:/g, "").toLowerCase() === fp || (cn !== undefined && a === `CN=${cn}`),
  );
}

/**
 * One line of printable ASCII: gRPC metadata refuses anything else, and messages can quote the caller's
 * bytes (a key type of random bytes once made Metadata.set throw and the call never answered).
 */
function oneLine(s: string): string {
  return s
    .replace(/\s*\n\s*/g, " ")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 512);
}
