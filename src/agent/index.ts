// The public face of agent/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { Agent } from "./agent.js";
export type { Collector } from "./collectors/collector.js";
export { CometCollector } from "./collectors/cometCollector.js";
export { EthCollector } from "./collectors/ethCollector.js";
export { HarmonyCollector } from "./collectors/harmonyCollector.js";
export { SubstrateCollector } from "./collectors/substrateCollector.js";
