// Prints the genesis validators root and GENESIS_FORK_VERSION of `lodestar dev` with N interop validators
// (computed by lodestar's own dev genesis code; the root does not depend on the genesis time), so signers
// can start before the beacon node does.

import { nodeUtils } from "@lodestar/beacon-node";
import { createIChainForkConfig } from "@lodestar/config";
import { config as devConfig } from "@lodestar/config/default";

const n = Number(process.argv[2] ?? 8);
const config = createIChainForkConfig({ ...devConfig, SECONDS_PER_SLOT: 2, ALTAIR_FORK_EPOCH: 0 });
const { state } = nodeUtils.initDevState(config, n, { genesisTime: 0, eth1BlockHash: Buffer.alloc(32, 0x0b) });
const hex = (b) => `0x${Buffer.from(b).toString("hex")}`;
process.stdout.write(
  `${JSON.stringify({ genesis_validators_root: hex(state.genesisValidatorsRoot), GENESIS_FORK_VERSION: hex(config.GENESIS_FORK_VERSION) })}\n`,
);
