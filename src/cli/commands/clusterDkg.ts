import type { Command } from "commander";

/** `cluster dkg`: filled in with the DKG over the cluster transport. */
export function registerClusterDkgCommand(_cluster: Command): void {}
