/**
 * Slashing protection, one face for every chain. Open a chain's protection on a store, decide batches of
 * its typed requests (`ChainProtection.decide`; the facades also decide one request at a time), switch
 * keys off and on, close. Status, import and export are functions over the store.
 *
 * Inside: one engine (engine/protectionEngine.ts: group commit, key ids, metrics, fail-closed flush) and,
 * per chain, only its request type, its pure rule (src/chains/<chain>/) and its repository (src/store/<chain>/).
 */

export {
  CometBftProtection,
  type CometBftProtectionModules,
  type CometBftProtectionOptions,
  CometImportError,
  CometImportErrorCode,
  type CometKeyRef,
  type ImportResult as CometImportResult,
} from "./cometbft/cometBftProtection.js";
export type { CometSigningKey, CometSignOutcome, CometSignRequest } from "./cometbft/types.js";
export type { DecisionEvent, DecisionEventSink } from "./decisionEvents.js";
export { type ChainProtection, settleAll } from "./engine/chainProtection.js";
export {
  EthereumProtection,
  type EthereumProtectionModules,
  type EthereumProtectionOptions,
} from "./ethereum/ethereumProtection.js";
export { exportInterchange } from "./ethereum/interchangeExport.js";
export { importInterchange } from "./ethereum/interchangeImport.js";
export { DEFAULT_EPOCHS_TO_KEEP, pruneEthereum } from "./ethereum/pruning.js";
export { ethereumStatus } from "./ethereum/status.js";
export { createProtectionMetrics, type ProtectionMetrics } from "./metrics.js";
export { exportSubstrateInterchange, importSubstrateInterchange } from "./substrate/interchange.js";
export { DEFAULT_SESSIONS_TO_KEEP, DEFAULT_SLOTS_PER_SESSION, pruneSubstrate } from "./substrate/pruning.js";
export { substrateStatus } from "./substrate/status.js";
export {
  kindOf,
  SubstrateProtection,
  type SubstrateProtectionModules,
  type SubstrateProtectionOptions,
} from "./substrate/substrateProtection.js";
export type { SubstrateOutcome, SubstrateProtectionRequest } from "./substrate/types.js";
