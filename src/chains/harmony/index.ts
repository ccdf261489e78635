// The public face of chains/harmony/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { HarmonyKeyFactsWire } from "./agentFacts.js";
export { harmonyActivity, parseHarmonyFacts } from "./agentFacts.js";
export { blsKeyFromFileName, parseNodeMetadata } from "./nodeMetadata.js";
