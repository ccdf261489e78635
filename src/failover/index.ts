// The public face of failover/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { FailoverDaemon } from "./daemon.js";
export { FailoverErrorCode } from "./errors.js";
export type { FailoverEvent, FailoverEvents } from "./events.js";
export { EtcdLeaseStore } from "./lease/etcdLease.js";
export type { LeaseStore } from "./lease/lease.js";
export { SqlLeaseStore } from "./lease/sqlLease.js";
export { createFailoverMetrics } from "./metrics.js";
export { monotonic } from "./monotonic.js";
export type { CommandNodeControlOptions } from "./node/nodeControl.js";
export { CommandNodeControl, stopBoundMs } from "./node/nodeControl.js";
export type { FailoverOptions } from "./options.js";
export { isLoopbackUrl, PEER_AUTH_HEADER, PEER_NONCE_HEADER, PeerToken } from "./peers/peerAuth.js";
export type { PeerConfig } from "./peers/peers.js";
export { PeerClient } from "./peers/peers.js";
export { HttpChainRpc, HttpEvmRpc } from "./peers/rpcClient.js";
export type { FailoverStatus } from "./status.js";
