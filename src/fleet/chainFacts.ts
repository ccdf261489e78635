import { cometActivity, parseCometFacts } from "../chains/cometbft/index.js";
import { ethActivity, parseEthFacts } from "../chains/ethereum/index.js";
import { harmonyActivity, parseHarmonyFacts } from "../chains/harmony/index.js";
import { parseSubstrateFacts, substrateActivity } from "../chains/substrate/index.js";
import type { KeyActivity } from "../util/keyActivity.js";

export type ChainName = "harmony" | "cometbft" | "ethereum" | "substrate";
export const CHAINS: readonly ChainName[] = ["harmony", "cometbft", "ethereum", "substrate"];

interface ChainFacts {
  /** Public key format of the chain (0x + lower-case hex). */
  pubkey: RegExp;
  keyTypes: readonly string[];
  /** Validates the facts an agent sent and returns them in canonical form. */
  parse(v: unknown): object;
  /** The chain's "actively signing" predicate over validated facts. */
  activity(facts: object): KeyActivity;
}

/**
 * Per chain: how to validate what an agent reports about a key and whether that means the host signs
 * with it. The monitor decides activity from facts, so a rule change needs no agent upgrade.
 */
export const CHAIN_FACTS: Record<ChainName, ChainFacts> = {
  harmony: {
    pubkey: /^0x[0-9a-f]{96}$/,
    keyTypes: ["bls"],
    parse: parseHarmonyFacts,
    activity: (f) => harmonyActivity(f as ReturnType<typeof parseHarmonyFacts>),
  },
  cometbft: {
    pubkey: /^0x([0-9a-f]{64}|[0-9a-f]{66})$/,
    keyTypes: ["ed25519", "secp256k1"],
    parse: parseCometFacts,
    activity: (f) => cometActivity(f as ReturnType<typeof parseCometFacts>),
  },
  ethereum: {
    pubkey: /^0x[0-9a-f]{96}$/,
    keyTypes: ["bls"],
    parse: parseEthFacts,
    activity: (f) => ethActivity(f as ReturnType<typeof parseEthFacts>),
  },
  substrate: {
    pubkey: /^0x([0-9a-f]{64}|[0-9a-f]{66})$/,
    keyTypes: ["babe", "gran", "imon", "audi", "para", "asgn", "beef"],
    parse: parseSubstrateFacts,
    activity: (f) => substrateActivity(f as ReturnType<typeof parseSubstrateFacts>),
  },
};

export function isChainName(v: unknown): v is ChainName {
  return typeof v === "string" && (CHAINS as readonly string[]).includes(v);
}
