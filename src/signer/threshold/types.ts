import { AppError } from "../../util/errors.js";

/** What a node sends a peer for its partial signature: the full signing request, never a bare root. */
export interface PartialRequest {
  groupPublicKey: Uint8Array;
  /** The Web3Signer request body (JSON text) as the validator client sent it. */
  body: string;
  /** The root the requester computed; the peer recomputes its own and refuses a difference. */
  signingRoot: Uint8Array;
  /** The T share indices whose partials will be combined (the receiver among them). */
  signers: number[];
}

export interface PartialReply {
  index: number;
  partial: Uint8Array;
}

/** How the threshold signer reaches its peers; the cluster transport (src/cluster) implements it. */
export interface PeerTransport {
  /** Indices of the other nodes. */
  readonly peers: readonly number[];
  requestPartial(peer: number, req: PartialRequest, timeoutMs: number): Promise<PartialReply>;
  /** Last known reachability (probes and recent calls). */
  isReachable(peer: number): boolean;
}

export enum ClusterErrorCode {
  /** The peer answered with a typed refusal (its code is `peerCode`). */
  PeerRefused = "ERR_CLUSTER_PEER_REFUSED",
  PeerUnavailable = "ERR_CLUSTER_PEER_UNAVAILABLE",
  PeerTimeout = "ERR_CLUSTER_PEER_TIMEOUT",
  /** The peer's partial failed verification against its share's public key. */
  BadPartial = "ERR_CLUSTER_BAD_PARTIAL",
  /** A caller whose certificate is not one of the cluster's pinned ones. */
  NotAllowed = "ERR_CLUSTER_NOT_ALLOWED",
}

export class PeerCallError extends AppError<{ code: ClusterErrorCode; peer: number; peerCode?: string }> {
  /** The code to report for this peer: its own refusal code when it gave one. */
  get reportCode(): string {
    return this.type.peerCode ?? this.type.code;
  }
}
