import { type Command, InvalidArgumentError } from "commander";
import { TOKEN_ROLES, TokenService } from "../../fleet/index.js";
import type { TokenRole } from "../../store/index.js";
import { DEFAULT_STORE_URL, openStore } from "../../store/index.js";
import type { LogLevel } from "../../util/logger.js";
import { startMonitor } from "../monitor/startMonitor.js";
import { parseLogLevel, parsePositiveInt } from "../options.js";
import { runUntilSignal } from "../run.js";
import { addEventsOptions, type EventsFlags } from "../signer/eventsSetup.js";

export { startMonitor } from "../monitor/startMonitor.js";

interface MonitorFlags extends EventsFlags {
  db?: string;
  host?: string;
  port?: number;
  config?: string;
  webhook?: string;
  logLevel?: LogLevel;
  beaconNode?: string[];
  ethereumOwner?: string;
}

function parseRole(v: string): TokenRole {
  if (!(TOKEN_ROLES as readonly string[]).includes(v))
    throw new InvalidArgumentError("must be agent, operator or admin");
  return v as TokenRole;
}

function parsePort(v: string): number {
  if (v === "0") return 0;
  return parsePositiveInt(v);
}

/** `monitor token … --db X`: commander may hand --db to the parent `monitor`, so read it from either. */
const dbUrl = (cmd: Command): string =>
  (cmd.optsWithGlobals() as { db?: string }).db ?? process.env.SLASHGUARD_DB ?? DEFAULT_STORE_URL;

export function registerMonitorCommand(program: Command): void {
  const monitor = program
    .command("monitor")
    .description("fleet monitor: receives agent reports, alerts when a key signs on two hosts, keeps the history")
    .option("--db <url>", `store: sqlite:PATH or postgres://… (default ${DEFAULT_STORE_URL})`)
    .option("--host <host>", "HTTP listen address (default 127.0.0.1)")
    .option("--port <n>", "HTTP port (default 9100)", parsePort)
    .option("--config <file>", "YAML config: monitor settings and alert sinks (flags win)")
    .option("--webhook <url>", "send every alert as JSON to this URL (the simplest sink)")
    .option("--log-level <level>", "debug, info, warn, error (default info)", parseLogLevel)
    .option(
      "--beacon-node <url>",
      "beacon node for the continuous foreign-signer check of the keys in this store (repeat for failover)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--ethereum-owner <name>", "fleet owner of foreign-signer alerts about keys no agent reports")
    .action(async (flags: MonitorFlags) => {
      await runUntilSignal(
        async () => {
          const m = await startMonitor({
            ...flags,
            ...(flags.db === undefined && process.env.SLASHGUARD_DB ? { db: process.env.SLASHGUARD_DB } : {}),
          });
          process.stdout.write(
            `slashguard monitor listening on ${m.url} (API: ${m.url}/api/v1, metrics: ${m.url}/metrics)\n`,
          );
          return m;
        },
        (m) => m.stop(),
      );
    });

  addEventsOptions(monitor, "every alert state change");

  const token = monitor.command("token").description("owner-scoped bearer tokens (stored only as a hash)");
  token
    .command("create")
    .description("create a token for an owner and print it once")
    .requiredOption("--owner <name>", "owner the token acts for (created if new)")
    .option(
      "--role <role>",
      "agent (reports only), operator (reads and acts on the owner's alerts) or admin (every owner)",
      parseRole,
      "agent" as TokenRole,
    )
    .option("--label <text>", "a note to recognise the token by")
    .option("--db <url>", "store URL")
    .action(async (o: { owner: string; role: TokenRole; label?: string }, cmd: Command) => {
      const store = await openStore(dbUrl(cmd));
      try {
        const t = await new TokenService(store).create(o.owner, o.role, o.label ?? null);
        process.stdout.write(`${t.token}\n`);
        process.stderr.write(
          `token ${t.id} for owner ${o.owner} (role ${o.role}): store it now, it is not shown again\n`,
        );
      } finally {
        await store.close();
      }
    });
  token
    .command("list")
    .description("list tokens (never their values)")
    .option("--db <url>", "store URL")
    .action(async (_o: unknown, cmd: Command) => {
      const store = await openStore(dbUrl(cmd));
      try {
        for (const t of await new TokenService(store).list()) {
          const state = t.revokedAt === null ? "active" : `revoked ${new Date(t.revokedAt).toISOString()}`;
          process.stdout.write(`${t.tokenId}\t${t.ownerName}\t${t.role}\t${state}\t${t.label ?? ""}\n`);
        }
      } finally {
        await store.close();
      }
    });
  token
    .command("revoke")
    .description("revoke a token by id (monitors stop accepting it within 5 s)")
    .argument("<id>", "token id from `token list`", parsePositiveInt)
    .option("--db <url>", "store URL")
    .action(async (id: number, _o: unknown, cmd: Command) => {
      const store = await openStore(dbUrl(cmd));
      try {
        if (!(await new TokenService(store).revoke(id))) throw new InvalidArgumentError(`no active token ${id}`);
        process.stdout.write(`revoked token ${id}\n`);
      } finally {
        await store.close();
      }
    });
}
