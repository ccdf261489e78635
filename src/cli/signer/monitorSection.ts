import type { Command } from "commander";
import type { AlertStateSink } from "../../alerts/index.js";
import type { SignerService } from "../../signer/index.js";
import { type MonitorOptions, type RunningMonitor, startMonitor } from "../monitor/startMonitor.js";
import type { SignerContext, SignerSection } from "./section.js";

/**
 * The fleet monitor as a part of one process with the signer (`slashguard up`): same store, logger,
 * metrics and HTTP port. `onStarted` receives the running monitor (to create demo tokens, for example).
 */
export function monitorSection(opts: MonitorOptions, onStarted?: (m: RunningMonitor) => Promise<void>): SignerSection {
  return {
    name: "monitor",
    addOptions(_cmd: Command): void {},
    async start(ctx: SignerContext): Promise<SignerService> {
      const m = await startMonitor(opts, {
        store: ctx.store,
        logger: ctx.logger,
        registry: ctx.registry,
        http: ctx.http,
        // --events of `up`: alert state changes go into the signer's outbox too
        events: ctx.events !== null && "recordAlerts" in ctx.events ? (ctx.events as unknown as AlertStateSink) : null,
      });
      await onStarted?.(m);
      return {
        name: "monitor",
        describe: () => ["fleet monitor API on /api/v1 (alerts, hosts, keys, agent reports)"],
        health: async () => ({ ok: true, checks: {} }),
        stop: () => m.stop(),
      };
    },
  };
}
