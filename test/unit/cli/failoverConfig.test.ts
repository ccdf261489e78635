import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError } from "../../../src/cli/config.js";
import { parseFailoverConfig } from "../../../src/cli/failover/config.js";

// SyncGuard's config-story.yaml as its README gives it, plus our own lease/node/key sections.
const SYNCGUARD = `
server:
  id: "story-validator-1"
  role: "primary"
  port: 8080

story:
  comet_rpc_url: "http://localhost:26657"
  evm_rpc_url: "http://localhost:8545"
  validator_state_path: "/home/story/.story/story/data/priv_validator_state.json"
  validator_state_backup: "/home/story/backup/priv_validator_state.json"
  node_role: "active"
  is_primary_site: true
  min_peers: 3
  block_interval: 500
  state_sync_interval: 5

failover:
  health_check_interval: 5
  retry_attempts: 3
  fallback_grace_period: 60

communication:
  peers:
    - id: "story-validator-2"
      address: "192.168.1.2:8080"

logging:
  level: "info"
  verbose: true
  enable_alerts: true
`;
const OURS = `
lease:
  store: postgres://slashguard@db/slashguard
node:
  key_file: /home/story/.story/story/config/priv_validator_key.json
key:
  validator_key_file: /etc/slashguard/priv_validator_key.json
`;

const load = (text: string, role?: "active" | "passive") =>
  parseFailoverConfig(parse(text) as Record<string, unknown>, "c.yaml", role === undefined ? {} : { role });

function path(text: string): string {
  try {
    load(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.type.path ?? "";
    throw e;
  }
  return "ok";
}

describe("failover config", () => {
  it("takes SyncGuard's config-story.yaml fields as they are", () => {
    const c = load(SYNCGUARD + OURS);
    expect(c.options).toMatchObject({
      nodeId: "story-validator-1",
      startAs: "active",
      primary: true,
      tickMs: 5000,
      retryAttempts: 3,
      failbackGraceMs: 60_000,
      stateSyncIntervalMs: 5000,
      health: { minPeers: 3, stallMs: 5000 }, // block_interval 500 ms is shorter than a check interval
    });
    expect(c.options.files.stateFile).toBe("/home/story/.story/story/data/priv_validator_state.json");
    expect(c.options.files.nodeConfigFile).toBe("/home/story/.story/story/config/config.toml");
    expect(c.rpc).toMatchObject({ cometUrl: "http://localhost:26657", evmUrl: "http://localhost:8545" });
    expect(c.peers).toEqual([{ id: "story-validator-2", url: "http://192.168.1.2:8080", loopback: false }]);
    expect(c.peerTokenFile).toBeNull();
    expect(c.http).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(c.logLevel).toBe("info");
    expect(c.node.stopCommand).toBe("systemctl stop story");
    expect(c.node.isRunningCommand).toBe("systemctl is-active --quiet story");
  });

  it("--role wins over the file; backup/passive start passive", () => {
    expect(load(SYNCGUARD + OURS, "passive").options.startAs).toBe("passive");
    const backup = SYNCGUARD.replace('role: "primary"', 'role: "backup"').replace('node_role: "active"', "");
    expect(load(backup + OURS).options.startAs).toBe("passive");
  });

  it("issue 14 defect 6: communication.peer_token_file is read from the SyncGuard section", () => {
    const withToken = SYNCGUARD.replace(
      "communication:\n",
      "communication:\n  peer_token_file: /etc/slashguard/peer.token\n",
    );
    expect(load(withToken + OURS).peerTokenFile).toBe("/etc/slashguard/peer.token");
  });

  it("issue 14 defect 5: the announced bound: a start in flight (command_timeout) + stop + kill + stop", () => {
    // command_timeout 30 s + stop_timeout 10 s
    expect(load(SYNCGUARD + OURS).options).toMatchObject({ stopTimeoutMs: 10_000, stopBoundMs: 40_000 });
    const kill = OURS.replace("node:\n", "node:\n  kill_command: systemctl kill -s KILL story\n");
    expect(load(SYNCGUARD + kill).options.stopBoundMs).toBe(60_000);
    const killTimeout = OURS.replace("node:\n", "node:\n  kill_command: k\n  kill_timeout: 2s\n");
    expect(load(SYNCGUARD + killTimeout).options.stopBoundMs).toBe(52_000);
    expect(load(SYNCGUARD + killTimeout).node.killTimeoutMs).toBe(2000);
  });

  it("reads durations with units and defaults the renewal to a third of ttl - margin", () => {
    const ours = OURS.replace("lease:\n", "lease:\n  ttl: 9s\n  margin: 3000ms\n").replace(
      "node:\n",
      "node:\n  stop_timeout: 1.5\n",
    );
    const c = load(SYNCGUARD + ours);
    expect(c.node.stopTimeoutMs).toBe(1500);
    expect(c.options.lease).toMatchObject({ ttlMs: 9000, marginMs: 3000, renewIntervalMs: 2000 });
  });

  it.each([
    ["no server id", SYNCGUARD.replace('id: "story-validator-1"', "") + OURS, "server.id"],
    ["no lease store", SYNCGUARD + OURS.replace("  store: postgres://slashguard@db/slashguard\n", ""), "lease.store"],
    [
      "margin not above the stop timeout",
      SYNCGUARD + OURS.replace("lease:\n", "lease:\n  margin: 5s\n"),
      "lease.margin",
    ],
    [
      "margin not below the ttl",
      SYNCGUARD + OURS.replace("lease:\n", "lease:\n  ttl: 10s\n  margin: 20s\n"),
      "lease.margin",
    ],
    [
      "a bad duration",
      SYNCGUARD.replace("health_check_interval: 5", "health_check_interval: soon") + OURS,
      "failover.health_check_interval",
    ],
    ["an unknown key in our sections", `${SYNCGUARD + OURS}  nonsense: 1\n`, "key"],
    [
      "a lookback shorter than the chain check",
      `${SYNCGUARD.replace("retry_attempts: 3", "retry_attempts: 3\n  lookback_heights: 2")}${OURS}`,
      "failover.lookback_heights",
    ],
  ])("refuses %s, naming the field", (_n, text, field) => {
    expect(path(text)).toBe(field);
  });
});
