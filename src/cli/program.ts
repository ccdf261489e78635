import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerAgentCommand } from "./commands/agent.js";
import { registerMonitorCommand } from "./commands/monitor.js";
import { registerProtectionCommands } from "./commands/protection.js";
import { registerSignerCommand } from "./commands/signer.js";

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
  registerSignerCommand(program);
  registerMonitorCommand(program);
  registerAgentCommand(program);
  return program;
}
