// The public face of signer/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { CometProtectedSign } from "./cometbft/cometBftSigner.js";
export { CometBftSigner } from "./cometbft/cometBftSigner.js";
export { EthSigner, normalizePubkey } from "./ethereum/ethSigner.js";
export { Keymanager } from "./ethereum/keymanager.js";
export type { EthSignerMetrics } from "./ethereum/metrics.js";
export { createEthSignerMetrics } from "./ethereum/metrics.js";
export { DoppelgangerGuard } from "./gates/doppelgangerGuard.js";
export type { HealthReport, SignerService } from "./service.js";
export { SubstrateKeys } from "./substrate/substrateKeys.js";
export { SubstrateSigner } from "./substrate/substrateSigner.js";
export type { ThresholdMetrics } from "./threshold/metrics.js";
export { createThresholdMetrics } from "./threshold/metrics.js";
export { ThresholdEthSigner } from "./threshold/thresholdEthSigner.js";
export type { PartialReply, PartialRequest, PeerTransport } from "./threshold/types.js";
export { ClusterErrorCode, PeerCallError } from "./threshold/types.js";
