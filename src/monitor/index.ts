// The public face of monitor/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export type { RunningWatch } from "./ethereumWatch.js";
export { startFleetMonitor } from "./fleetMonitor.js";
export { monitorSectionSchema } from "./monitorConfig.js";
