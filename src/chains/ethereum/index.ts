// The public face of chains/ethereum/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { KeymanagerKey } from "./agentKeymanager.js";
export { ethActivity, parseEthFacts, parseKeystoresList, parseRemoteKeysList } from "./agentKeymanager.js";
export { applyAttestation, attestationNeedsHistory, checkAttestation } from "./attestationRule.js";
export type { BeaconApi, LivenessAnswer } from "./beaconClient.js";
export { BeaconClient } from "./beaconClient.js";
export { describeBeaconFailure } from "./beaconErrors.js";
export { DEFAULT_BEACON_TIMEOUT_MS } from "./beaconHttp.js";
export type { ForkVersions } from "./beaconParse.js";
export type { RuleResult } from "./blockRule.js";
export { applyBlock, blockNeedsHistory, checkBlock } from "./blockRule.js";
export type { ChainTime } from "./chainTime.js";
export {
  chainTimeOf,
  epochAt,
  epochOfSlot,
  firstSlot,
  lastSlot,
  nextCheckTimeMs,
  slotAt,
  slotTimeMs,
} from "./chainTime.js";
export type { DoppelgangerState, DoppelgangerStatus, LivenessObservation } from "./doppelgangerRules.js";
export {
  applyRound,
  DEFAULT_DOPPELGANGER_EPOCHS,
  DOPPELGANGER_GUARDED_TYPES,
  DOPPELGANGER_STATUSES,
  markDetected,
  registerKey,
  roundEpochs,
  skipForRestart,
} from "./doppelgangerRules.js";
export { InterchangeError, InterchangeErrorCode } from "./interchange/errors.js";
export { InterchangeV5Reader } from "./interchange/v5Reader.js";
export type { InterchangeMetadata } from "./interchange/v5Types.js";
export { INTERCHANGE_FORMAT_VERSION } from "./interchange/v5Types.js";
export type { EthNetwork } from "./networks.js";
export { NETWORK_NAMES, resolveNetwork } from "./networks.js";
export { attestationSigningRoot, attestingIndices, blockSigningRoot } from "./onchainAttestations.js";
export { ProtectionErrorCode, SlashingProtectionError } from "./protectionErrors.js";
export type {
  AttestationRecord,
  AttestationRequest,
  AttestationState,
  BlockRecord,
  BlockRequest,
  BlockState,
  ProtectionOutcome,
  ProtectionRequest,
} from "./protectionTypes.js";
export { EMPTY_ATTESTATION_STATE, EMPTY_BLOCK_STATE } from "./protectionTypes.js";
export type { SigningRequest } from "./signingRequest.js";
export { parseSigningRequest, SigningErrorCode, SigningRequestError } from "./signingRequest.js";
export type { EthSszTypes, Preset } from "./sszTypes.js";
export { loadEthSszTypes } from "./sszTypes.js";
