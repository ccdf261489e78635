import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerAgentCommand } from "./commands/agent.js";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerCometBftStateCommands } from "./commands/cometbftState.js";
import { registerEventsCommands } from "./commands/events.js";
import { registerFailoverCommand } from "./commands/failover.js";
import { registerKeysCommands } from "./commands/keys.js";
import { registerMonitorCommand } from "./commands/monitor.js";
import { registerProtectionCommands } from "./commands/protection.js";
import { registerSignerCommand } from "./commands/signer.js";
import { registerSubstrateCommands } from "./commands/substrate.js";
import { registerUpCommand } from "./commands/up.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** The composition root: every command registers itself here. */
export function buildProgram(): Command {
  const program = new Command("slashguard")
    .description("Keeps proof-of-stake validators from being slashed for double signing")
    .version(version())
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerProtectionCommands(program);
  registerCometBftStateCommands(program);
  registerSignerCommand(program);
  registerKeysCommands(program);
  registerClusterCommands(program);
  registerUpCommand(program);
  registerSubstrateCommands(program);
  registerFailoverCommand(program);
  registerMonitorCommand(program);
  registerAgentCommand(program);
  registerEventsCommands(program);
  return program;
}
