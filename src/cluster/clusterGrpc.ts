import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ProtectionErrorCode } from "../chains/ethereum/index.js";
import type { ClusterNode } from "../keys/index.js";
import { isAppError } from "../util/errors.js";
import { nodeServerName } from "./nodeCertificate.js";

export const CLUSTER_PROTO_PATH = fileURLToPath(new URL("./cluster.proto", import.meta.url));
/** A signing request is a few kB; a DKG dealing for many keys is bigger. */
export const CLUSTER_MAX_MESSAGE_BYTES = 16 << 20;
export const CODE_TRAILER = "slashguard-code";

export interface ClusterServices {
  ThresholdSigner: grpc.ServiceClientConstructor;
  Dkg: grpc.ServiceClientConstructor;
}

let services: ClusterServices | null = null;

export function clusterServices(): ClusterServices {
  if (services !== null) return services;
  const def = protoLoader.loadSync(CLUSTER_PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    slashguard: { cluster: { v1: ClusterServices } };
  };
  services = pkg.slashguard.cluster.v1;
  return services;
}

/** Server credentials that accept only clients presenting one of the pinned certificates. */
export function serverCredentials(nodes: readonly ClusterNode[], key: Buffer, cert: Buffer): grpc.ServerCredentials {
  // every pinned (self-signed) certificate is its own trust anchor; nothing else chains to them
  const roots = Buffer.from(nodes.map((n) => n.certificatePem).join("\n"));
  return grpc.ServerCredentials.createSsl(roots, [{ cert_chain: cert, private_key: key }], true);
}

/** Client credentials for one peer: trust only its pinned certificate, and check its fingerprint. */
export function peerCredentials(peer: ClusterNode, key: Buffer, cert: Buffer): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(peer.certificatePem), key, cert, {
    checkServerIdentity: (_host, presented) => {
      const fp = presented.fingerprint256?.replace(/:/g, "").toLowerCase();
      return fp === peer.fingerprint
        ? undefined
        : new Error(`node ${peer.index} presented a certificate that is not pinned`);
    },
  });
}

export function peerChannelOptions(peer: ClusterNode): grpc.ChannelOptions {
  return {
    "grpc.ssl_target_name_override": nodeServerName(peer.index),
    "grpc.default_authority": nodeServerName(peer.index),
    "grpc.max_receive_message_length": CLUSTER_MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": CLUSTER_MAX_MESSAGE_BYTES,
    // reconnect quickly after a peer restarts: a node that is back should count again within a slot
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 1000,
  };
}

/** The node a call comes from, by the fingerprint of its (already pinned-verified) client certificate. */
export function callerIndex(
  call: grpc.ServerUnaryCall<unknown, unknown>,
  byFingerprint: ReadonlyMap<string, number>,
): number | null {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (cert === undefined || cert === null || !("fingerprint256" in cert)) return null;
  return byFingerprint.get(cert.fingerprint256.replace(/:/g, "").toLowerCase()) ?? null;
}

const PRECONDITION = new Set<string>(Object.values(ProtectionErrorCode));

/** gRPC status for a typed refusal (one place for the cluster transport). */
export function grpcStatusOf(e: unknown): grpc.status {
  if (!isAppError(e)) return grpc.status.INTERNAL;
  const c = e.code;
  if (PRECONDITION.has(c) || c.startsWith("ERR_DOPPELGANGER_")) return grpc.status.FAILED_PRECONDITION;
  if (c === "ERR_KEY_UNKNOWN") return grpc.status.NOT_FOUND;
  if (c.startsWith("ERR_BAD_") || c === "ERR_SIGNING_ROOT_MISMATCH" || c === "ERR_THRESHOLD_BAD_INPUT")
    return grpc.status.INVALID_ARGUMENT;
  if (c.startsWith("ERR_STORE_")) return grpc.status.UNAVAILABLE;
  if (c.startsWith("ERR_DKG_")) return grpc.status.ABORTED;
  return grpc.status.FAILED_PRECONDITION;
}
