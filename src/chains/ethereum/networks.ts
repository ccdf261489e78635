import { BadRequestError } from "../../util/errors.js";
import { parseHex } from "../../util/hex.js";
import type { Preset } from "./sszTypes.js";

export interface EthNetwork {
  name: string;
  genesisValidatorsRoot: Uint8Array;
  /** GENESIS_FORK_VERSION: validator registrations are signed with it. */
  genesisForkVersion: Uint8Array;
  preset: Preset;
}

/** Well-known networks (genesis validators roots from the eth-clients network repositories). */
const KNOWN: Record<string, { gvr: string; genesisForkVersion: string }> = {
  mainnet: {
    gvr: "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95",
    genesisForkVersion: "0x00000000",
  },
  sepolia: {
    gvr: "0xd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078",
    genesisForkVersion: "0x90000069",
  },
  holesky: {
    gvr: "0x9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1",
    genesisForkVersion: "0x01017000",
  },
  hoodi: {
    gvr: "0x212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f",
    genesisForkVersion: "0x10000910",
  },
};

export const NETWORK_NAMES = [...Object.keys(KNOWN), "custom"] as const;

export interface NetworkOptions {
  network: string;
  genesisValidatorsRoot?: string;
  genesisForkVersion?: string;
  preset?: string;
}

/**
 * Resolves `--network`. A named network fixes its genesis root; giving a different one is refused. A
 * custom network needs the genesis validators root and takes the fork version and preset it runs.
 */
export function resolveNetwork(o: NetworkOptions): EthNetwork {
  const known = KNOWN[o.network];
  if (known !== undefined) {
    if (o.genesisValidatorsRoot !== undefined && o.genesisValidatorsRoot.toLowerCase() !== known.gvr) {
      throw new BadRequestError(
        `--genesis-validators-root ${o.genesisValidatorsRoot} is not ${o.network}'s (${known.gvr})`,
        "genesis_validators_root",
      );
    }
    if (o.preset !== undefined && o.preset !== "mainnet")
      throw new BadRequestError(`${o.network} uses the mainnet preset`, "preset");
    return {
      name: o.network,
      genesisValidatorsRoot: parseHex(known.gvr, "gvr", 32),
      genesisForkVersion: parseHex(o.genesisForkVersion ?? known.genesisForkVersion, "genesis_fork_version", 4),
      preset: "mainnet",
    };
  }
  if (o.network !== "custom") {
    throw new BadRequestError(`unknown network ${o.network}: use ${NETWORK_NAMES.join(", ")}`, "network");
  }
  if (o.genesisValidatorsRoot === undefined) {
    throw new BadRequestError("--network custom needs --genesis-validators-root", "genesis_validators_root");
  }
  const preset = o.preset ?? "mainnet";
  if (preset !== "mainnet" && preset !== "minimal")
    throw new BadRequestError("preset must be mainnet or minimal", "preset");
  return {
    name: "custom",
    genesisValidatorsRoot: parseHex(o.genesisValidatorsRoot, "genesis_validators_root", 32),
    genesisForkVersion: parseHex(o.genesisForkVersion ?? "0x00000000", "genesis_fork_version", 4),
    preset,
  };
}
