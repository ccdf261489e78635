import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { writeFileDurable } from "../../util/durableFile.js";
import { toHex } from "../../util/hex.js";
import { ThresholdError, ThresholdErrorCode } from "./errors.js";
import { assertThresholdParams, MAX_SHARES } from "./shamir.js";

/** One node of a threshold cluster: where its peers dial it and the certificate they pin. */
export interface ClusterNode {
  index: number;
  /** HOST:PORT of its cluster (gRPC) endpoint. */
  address: string;
  certificatePem: string;
  /** SHA-256 of the certificate (lower-case hex, no colons): how a peer is recognised. */
  fingerprint: string;
}

/** A group key: its Feldman commitments and the public key of every share (index i at i-1). */
export interface ClusterKey {
  groupPublicKey: Uint8Array;
  groupPublicKeyHex: string;
  commitments: Uint8Array[];
  sharePublicKeys: Uint8Array[];
}

export interface Cluster {
  scheme: "bls12-381";
  /** T, set when the first keys are split or generated. */
  threshold: number | null;
  nodes: ClusterNode[];
  keys: ClusterKey[];
}

const HEX48 = /^0x[0-9a-f]{96}$/;
const hex48 = z.string().toLowerCase().regex(HEX48, "0x-hex of 48 bytes");

const ClusterYaml = z
  .object({
    version: z.literal(1),
    scheme: z.literal("bls12-381").default("bls12-381"),
    threshold: z.number().int().min(1).max(MAX_SHARES).optional(),
    shares: z.number().int().min(1).max(MAX_SHARES).optional(),
    nodes: z
      .array(
        z
          .object({
            index: z.number().int().min(1).max(MAX_SHARES),
            address: z.string().regex(/^[^\s:]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$/, "HOST:PORT"),
            certificate: z.string().includes("BEGIN CERTIFICATE"),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_SHARES),
    keys: z
      .array(
        z
          .object({
            group_public_key: hex48,
            commitments: z.array(hex48).min(1),
            shares: z.array(z.object({ index: z.number().int().min(1).max(MAX_SHARES), public_key: hex48 }).strict()),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

function invalid(file: string, path: string, message: string): ThresholdError {
  return new ThresholdError(
    { code: ThresholdErrorCode.ClusterFileInvalid, file, path },
    `cluster file ${file}: ${path}: ${message}`,
  );
}

function bytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
}

/** SHA-256 fingerprint (lower-case hex) of a PEM certificate. */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}

/** Reads and checks a cluster file: indices 1..N in order, distinct addresses and certificates, keys consistent with T and N. */
export function readClusterFile(file: string): Cluster {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw invalid(file, "", `not readable YAML: ${(e as Error).message}`);
  }
  const r = ClusterYaml.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalid(file, issue.path.map(String).join("."), issue.message);
  }
  const y = r.data;
  const nodes = y.nodes.map((n, i): ClusterNode => {
    if (n.index !== i + 1)
      throw invalid(file, `nodes.${i}.index`, `expected ${i + 1} (nodes are numbered 1..N in order)`);
    let fingerprint: string;
    try {
      fingerprint = certificateFingerprint(n.certificate);
    } catch {
      throw invalid(file, `nodes.${i}.certificate`, "not a readable PEM certificate");
    }
    return { index: n.index, address: n.address, certificatePem: n.certificate, fingerprint };
  });
  if (new Set(nodes.map((n) => n.address)).size !== nodes.length)
    throw invalid(file, "nodes", "two nodes share an address");
  if (new Set(nodes.map((n) => n.fingerprint)).size !== nodes.length)
    throw invalid(file, "nodes", "two nodes share a certificate");
  const n = nodes.length;
  if (y.shares !== undefined && y.shares !== n)
    throw invalid(file, "shares", `says ${y.shares}, the file lists ${n} nodes`);
  const threshold = y.threshold ?? null;
  if (threshold !== null) {
    try {
      assertThresholdParams(threshold, n);
    } catch (e) {
      throw invalid(file, "threshold", (e as Error).message);
    }
  }
  if (y.keys.length > 0 && threshold === null) throw invalid(file, "threshold", "keys need a threshold");
  const seen = new Set<string>();
  const keys = y.keys.map((k, i): ClusterKey => {
    if (k.commitments.length !== threshold)
      throw invalid(file, `keys.${i}.commitments`, `${k.commitments.length} commitments for threshold ${threshold}`);
    if (k.commitments[0] !== k.group_public_key)
      throw invalid(file, `keys.${i}.commitments`, "the first commitment must be the group public key");
    if (k.shares.length !== n || k.shares.some((s, j) => s.index !== j + 1))
      throw invalid(file, `keys.${i}.shares`, `expected shares 1..${n} in order`);
    if (seen.has(k.group_public_key)) throw invalid(file, `keys.${i}.group_public_key`, "listed twice");
    seen.add(k.group_public_key);
    return {
      groupPublicKey: bytes(k.group_public_key),
      groupPublicKeyHex: k.group_public_key,
      commitments: k.commitments.map(bytes),
      sharePublicKeys: k.shares.map((s) => bytes(s.public_key)),
    };
  });
  return { scheme: "bls12-381", threshold, nodes, keys };
}

const HEADER =
  "# slashguard threshold cluster: every node's address and pinned TLS certificate, and the group keys\n" +
  "# (threshold T of N shares, Feldman commitments, each share's public key). Public data: no secrets here.\n";

/** Writes the cluster file atomically (temp file, fsync, rename). */
export function writeClusterFile(file: string, c: Cluster): void {
  const doc = {
    version: 1,
    scheme: c.scheme,
    ...(c.threshold === null ? {} : { threshold: c.threshold, shares: c.nodes.length }),
    nodes: c.nodes.map((n) => ({ index: n.index, address: n.address, certificate: n.certificatePem })),
    keys: c.keys.map((k) => ({
      group_public_key: k.groupPublicKeyHex,
      commitments: k.commitments.map(toHex),
      shares: k.sharePublicKeys.map((p, i) => ({ index: i + 1, public_key: toHex(p) })),
    })),
  };
  writeFileDurable(file, HEADER + stringify(doc, { lineWidth: 0 }), 0o644);
}

/** Adds keys to a cluster, fixing T on the first ones; refuses another T or a key already present. */
export function addClusterKeys(file: string, c: Cluster, threshold: number, keys: readonly ClusterKey[]): Cluster {
  assertThresholdParams(threshold, c.nodes.length);
  if (c.threshold !== null && c.threshold !== threshold)
    throw invalid(file, "threshold", `the cluster's keys use threshold ${c.threshold}, not ${threshold}`);
  const present = new Set(c.keys.map((k) => k.groupPublicKeyHex));
  for (const k of keys) {
    if (present.has(k.groupPublicKeyHex))
      throw invalid(file, "keys", `group key ${k.groupPublicKeyHex} is already in the cluster (split it once)`);
    present.add(k.groupPublicKeyHex);
  }
  return { ...c, threshold, keys: [...c.keys, ...keys] };
}
