/**
 * CometBFT RPC answers (JSON-RPC over HTTP, `GET /status`, `/net_info`, `/commit?height=`, `/block?height=`)
 * as the failover reads them. Wire types keep the node's snake_case; int64 values arrive as decimal strings.
 */

/** BlockIDFlag of a commit signature (types/block.go): 1 absent, 2 voted for the block, 3 voted nil. */
export enum BlockIdFlag {
  Absent = 1,
  Commit = 2,
  Nil = 3,
}

export interface CommitSigV038 {
  block_id_flag: number;
  /** Upper-case hex of 20 bytes; empty for an absent vote. */
  validator_address: string;
  timestamp: string;
  /** Base64; null for an absent vote. */
  signature: string | null;
}

/** `/status` result, the fields the failover uses. */
export interface NodeStatus {
  /** Chain id (`node_info.network`). */
  network: string;
  latestHeight: bigint;
  catchingUp: boolean;
  /** Address of the key the node runs with (upper-case hex); tells the validator key from a dummy one. */
  validatorAddress: string;
  votingPower: bigint;
}

export interface NetInfo {
  nPeers: number;
}

export interface CommitSig {
  flag: BlockIdFlag;
  validatorAddress: string;
  signature: string | null;
}

/** The precommits that committed one height (`/commit`) or the previous one (`/block` last_commit). */
export interface CommitInfo {
  height: bigint;
  round: number;
  /** false for the node's own "seen commit" of its latest height, which may still lack late votes. */
  canonical: boolean;
  signatures: CommitSig[];
}
