// The public face of privval/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { createPrivvalMetrics } from "./metrics.js";
export type { NodeAddress } from "./nodeAddress.js";
export { parseNodeAddress } from "./nodeAddress.js";
export type { NodeSessionOptions } from "./nodeSession.js";
export { DEFAULT_SESSION_TIMING } from "./nodeSession.js";
export { PrivvalService } from "./privvalService.js";
