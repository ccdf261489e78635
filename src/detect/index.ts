// The public face of detect/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { detailOf } from "./doppelganger/doppelgangerDetail.js";
export type { DoppelgangerMetrics } from "./doppelganger/doppelgangerMetrics.js";
export { createDoppelgangerMetrics, createForeignSignerMetrics } from "./doppelganger/doppelgangerMetrics.js";
export type { GuardEntry } from "./doppelganger/doppelgangerShared.js";
export { DoppelgangerSharedState } from "./doppelganger/doppelgangerShared.js";
export type { DetectedKey, DoppelgangerEvents, DoppelgangerKeyStatus } from "./doppelganger/doppelgangerTypes.js";
export { DoppelgangerError, DoppelgangerErrorCode } from "./doppelganger/doppelgangerTypes.js";
export { FleetDetector } from "./fleet/fleetDetector.js";
export { dedupKey } from "./fleet/fleetRules.js";
export { detectKeys, loadSweepInput } from "./fleet/fleetSnapshot.js";
export { ForeignSignerScanner } from "./foreignSigner/foreignSignerScanner.js";
export { ForeignSignerWatch } from "./foreignSigner/foreignSignerWatch.js";
export { OwnActivity } from "./ownActivity.js";
export type { DbSetupSeen, SignerEvent } from "./signerEvents.js";
export {
  checkFailedEvent,
  dbNotFailoverSafeEvent,
  detectedEvent,
  mayClear,
  parseSignerEvents,
  RAISED_BY,
  signerEventDedupKey,
  storeWentBackwardsEvent,
  toDetection,
} from "./signerEvents.js";
export type { Detection, HostState } from "./types.js";
export { FLEET_KINDS } from "./types.js";
