import type { Hrs, Timestamp } from "../../chains/cometbft/index.js";

/** One signing decision: the position and the canonical bytes a node asks this key to sign. */
export interface CometSignRequest {
  chainId: string;
  pubkey: Uint8Array;
  kind: "vote" | "proposal";
  hrs: Hrs;
  signBytes: Uint8Array;
}

export interface CometSignOutcome {
  signature: Uint8Array;
  /** Set when the stored signature is returned for bytes that differ only in the timestamp: use this one. */
  timestamp: Timestamp | null;
  /** true when the stored signature of an earlier identical (or timestamp-only different) request is returned. */
  repeat: boolean;
}

/** What the signer signs with: the key never leaves it (a node:crypto KeyObject, or a PKCS#11 token). */
export interface CometSigningKey {
  readonly publicKey: Uint8Array;
  /** A token signs asynchronously; a failure rejects, and the batch then releases nothing. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}
