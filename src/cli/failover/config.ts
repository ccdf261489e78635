import { dirname, join } from "node:path";
import { z } from "zod";
import type { FailoverOptions, PeerConfig } from "../../failover/index.js";
import { type CommandNodeControlOptions, isLoopbackUrl, stopBoundMs } from "../../failover/index.js";
import { ConfigError, ConfigErrorCode, validateSection } from "../config.js";

/**
 * `slashguard failover` configuration. The sections server, story, failover and communication take
 * SyncGuard's config-story.yaml fields as they are (so its users can switch with their file); lease, node
 * and key are ours. Plain numbers of durations are seconds (SyncGuard's unit), except story.block_interval,
 * which SyncGuard gives in milliseconds; strings take a unit: 500ms, 5s, 2m, 1h.
 */
export interface FailoverConfig {
  options: FailoverOptions;
  http: { host: string; port: number };
  lease: { store: string; name: string; callTimeoutMs: number };
  node: CommandNodeControlOptions;
  rpc: { cometUrl: string; evmUrl: string | null; timeoutMs: number; commitSource: "commit" | "block" };
  peers: PeerConfig[];
  peerTimeoutMs: number;
  /** File of the shared peer token, or null (then only loopback peers' answers count as evidence). */
  peerTokenFile: string | null;
  logLevel: string | undefined;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration: a number in `unit`, or a string with its own unit. */
function duration(unit: "s" | "ms") {
  return z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
    if (typeof v === "number") return Math.round(v * UNITS[unit]!);
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
    if (!m) {
      ctx.addIssue({ code: "custom", message: "must be a duration such as 500ms, 5s, 2m or 1h" });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * UNITS[m[2] ?? unit]!);
  });
}

const positiveInt = z.number().int().positive();
const roleSchema = z.enum(["active", "passive", "primary", "backup"]);

const serverSchema = z.object({
  id: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9._-]+$/, "use letters, digits, '.', '_' or '-'"),
  role: roleSchema.optional(),
  port: z.number().int().min(1).max(65535).default(8080),
  host: z.string().min(1).default("0.0.0.0"),
});

const storySchema = z.object({
  comet_rpc_url: z.url().default("http://127.0.0.1:26657"),
  evm_rpc_url: z.url().optional(),
  validator_state_path: z.string().min(1),
  node_role: roleSchema.optional(),
  is_primary_site: z.boolean().optional(),
  min_peers: z.number().int().nonnegative().default(3),
  block_interval: duration("ms").default(10_000),
  state_sync_interval: duration("s").default(5_000),
  rpc_timeout: duration("s").default(3_000),
});

const failoverSchema = z.object({
  health_check_interval: duration("s").default(5_000),
  retry_attempts: positiveInt.default(3),
  fallback_grace_period: duration("s").default(60_000),
  failback: z.enum(["auto", "manual"]).default("auto"),
  handover_window: duration("s").default(600_000),
  chain_check_heights: positiveInt.default(3),
  chain_check_timeout: duration("s").default(120_000),
  chain_check_source: z.enum(["commit", "block"]).default("commit"),
  signing_window: positiveInt.default(10),
  lookback_heights: positiveInt.default(100),
  double_sign_check_height: z.number().int().nonnegative().optional(),
  confirm_stopped_timeout: duration("s").default(120_000),
  retry_after: duration("s").default(30_000),
});

const peerSchema = z.object({
  id: z.string().min(1),
  address: z.string().min(1),
  stop_command: z.string().min(1).optional(),
});

const communicationSchema = z.object({
  peers: z.array(peerSchema).default([]),
  /** ours: file holding the shared peer token (same on every host of the validator). */
  peer_token_file: z.string().min(1).optional(),
  timeout: duration("s").default(3_000),
});

const leaseSchema = z.strictObject({
  store: z.string().min(1).optional(),
  name: z.string().min(1).default("failover"),
  ttl: duration("s").default(30_000),
  margin: duration("s").default(15_000),
  renew_interval: duration("s").optional(),
  call_timeout: duration("s").default(3_000),
});

const nodeSchema = z.strictObject({
  service: z.string().min(1).default("story"),
  start_command: z.string().min(1).optional(),
  stop_command: z.string().min(1).optional(),
  is_running_command: z.string().min(1).optional(),
  kill_command: z.string().min(1).optional(),
  /** Limit of the kill command (default: stop_timeout); part of the announced stop bound. */
  kill_timeout: duration("s").optional(),
  stop_timeout: duration("s").default(10_000),
  command_timeout: duration("s").default(30_000),
  key_file: z.string().min(1),
  config_file: z.string().min(1).optional(),
});

const keySchema = z.strictObject({
  validator_key_file: z.string().min(1),
  synced_state_file: z.string().min(1).optional(),
});

function invalid(file: string, path: string, message: string): ConfigError {
  return new ConfigError({ code: ConfigErrorCode.Invalid, file, path }, `config ${file}: ${path}: ${message}`);
}

function peerUrl(address: string): string {
  return /^https?:\/\//.test(address) ? address : `http://${address}`;
}

/** Turns the YAML document into checked settings; `role` (--role) wins over server.role / story.node_role. */
export function parseFailoverConfig(
  doc: Record<string, unknown>,
  file: string,
  flags: { role?: "active" | "passive" } = {},
): FailoverConfig {
  const server = validateSection(serverSchema, doc.server, file, "server");
  const story = validateSection(storySchema, doc.story ?? doc.cometbft, file, doc.story ? "story" : "cometbft");
  const fo = validateSection(failoverSchema, doc.failover, file, "failover");
  const comm = validateSection(communicationSchema, doc.communication, file, "communication");
  const lease = validateSection(leaseSchema, doc.lease, file, "lease");
  const node = validateSection(nodeSchema, doc.node, file, "node");
  const key = validateSection(keySchema, doc.key, file, "key");

  const role = flags.role ?? story.node_role ?? server.role ?? "passive";
  const startAs = role === "active" || role === "primary" ? "active" : "passive";
  const primary = story.is_primary_site ?? (server.role === "primary" || role === "active");

  const store = lease.store ?? (typeof doc.db === "string" ? doc.db : undefined);
  if (store === undefined)
    throw invalid(file, "lease.store", "give the lease store (postgres://…, etcd://host:2379,…)");
  if (lease.margin >= lease.ttl) throw invalid(file, "lease.margin", "must be smaller than lease.ttl");
  // The active must be able to stop its node after missing renewals and before the lease expires anywhere.
  if (lease.margin <= node.stop_timeout) {
    throw invalid(
      file,
      "lease.margin",
      "must be larger than node.stop_timeout (the node must stop before the lease expires)",
    );
  }
  const renewIntervalMs = lease.renew_interval ?? Math.max(1, Math.floor((lease.ttl - lease.margin) / 3));
  if (renewIntervalMs >= lease.ttl - lease.margin) {
    throw invalid(file, "lease.renew_interval", "must be below ttl - margin, or no renewal lands in time");
  }
  const K = fo.chain_check_heights;
  if (fo.lookback_heights < K + 2)
    throw invalid(file, "failover.lookback_heights", "must be at least chain_check_heights + 2");
  const peers = comm.peers.filter((p) => p.id !== server.id);
  const unit = node.service;
  const tick = fo.health_check_interval;
  if (tick <= 0) throw invalid(file, "failover.health_check_interval", "must be positive");

  const nodeControl: CommandNodeControlOptions = {
    startCommand: node.start_command ?? `systemctl start ${unit}`,
    stopCommand: node.stop_command ?? `systemctl stop ${unit}`,
    isRunningCommand: node.is_running_command ?? `systemctl is-active --quiet ${unit}`,
    ...(node.kill_command === undefined ? {} : { killCommand: node.kill_command }),
    ...(node.kill_timeout === undefined ? {} : { killTimeoutMs: node.kill_timeout }),
    stopTimeoutMs: node.stop_timeout,
    commandTimeoutMs: node.command_timeout,
    pollMs: 100,
  };
  const options: FailoverOptions = {
    nodeId: server.id,
    startAs,
    primary,
    failback: fo.failback,
    tickMs: tick,
    health: {
      minPeers: story.min_peers,
      // SyncGuard's block_interval may be shorter than a check interval: the height must move between checks.
      stallMs: Math.max(story.block_interval, tick),
      signingWindow: fo.signing_window,
      maxCommitsPerCheck: Math.max(fo.signing_window, 20),
    },
    retryAttempts: fo.retry_attempts,
    failbackGraceMs: fo.fallback_grace_period,
    handoverWindowMs: fo.handover_window,
    stateSyncIntervalMs: story.state_sync_interval,
    lease: {
      ttlMs: lease.ttl,
      marginMs: lease.margin,
      renewIntervalMs,
      reserveMs: Math.max(lease.ttl, fo.chain_check_timeout),
    },
    stopTimeoutMs: node.stop_timeout,
    // a start in flight when the holder vanished (killed at command_timeout) + the longest stop
    stopBoundMs: node.command_timeout + stopBoundMs(nodeControl),
    chainCheck: { heights: K, timeoutMs: fo.chain_check_timeout, pollMs: Math.min(tick, 1000) },
    lookbackHeights: fo.lookback_heights,
    doubleSignCheckHeight: BigInt(fo.double_sign_check_height ?? K),
    confirmStoppedTimeoutMs: fo.confirm_stopped_timeout,
    retryAfterMs: fo.retry_after,
    files: {
      stateFile: story.validator_state_path,
      syncedStateFile: key.synced_state_file ?? `${story.validator_state_path}.slashguard-synced.json`,
      nodeKeyFile: node.key_file,
      nodeConfigFile: node.config_file ?? join(dirname(node.key_file), "config.toml"),
      validatorKeyFile: key.validator_key_file,
    },
  };
  return {
    options,
    http: { host: server.host, port: server.port },
    lease: { store, name: lease.name, callTimeoutMs: lease.call_timeout },
    node: nodeControl,
    rpc: {
      cometUrl: story.comet_rpc_url,
      evmUrl: story.evm_rpc_url ?? null,
      timeoutMs: story.rpc_timeout,
      commitSource: fo.chain_check_source,
    },
    peers: peers.map((p) => ({
      id: p.id,
      url: peerUrl(p.address),
      loopback: isLoopbackUrl(peerUrl(p.address)),
      ...(p.stop_command === undefined ? {} : { stopCommand: p.stop_command }),
    })),
    peerTimeoutMs: comm.timeout,
    peerTokenFile: comm.peer_token_file ?? null,
    logLevel: logLevelOf(doc),
  };
}

function logLevelOf(doc: Record<string, unknown>): string | undefined {
  if (typeof doc.log_level === "string") return doc.log_level;
  const logging = doc.logging as { level?: unknown } | undefined;
  return typeof logging?.level === "string" ? logging.level : undefined;
}
