import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { freePort } from "./ports.js";

function findEtcd(): string | null {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/local/bin"])) {
    const p = join(dir, "etcd");
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

export const ETCD_BIN = findEtcd();
export const HAS_ETCD = ETCD_BIN !== null;
if (!HAS_ETCD) console.warn("etcd is not installed (apt-get install etcd-server): etcd tests are SKIPPED");

export interface EtcdMember {
  name: string;
  clientUrl: string;
  proc: ChildProcess;
}

export interface EtcdCluster {
  endpoints: string[];
  members: EtcdMember[];
  /** Index of the current leader. */
  leader(): Promise<number>;
  kill(i: number): void;
  stop(): Promise<void>;
}

/**
 * Starts an etcd cluster of `n` members on loopback (fast elections: 50 ms heartbeat, 500 ms election
 * timeout, so the smallest lease TTL is 1 s). Waits until every member answers.
 */
export async function startEtcd(n: number, dataDir: string): Promise<EtcdCluster> {
  if (ETCD_BIN === null) throw new Error("etcd is not installed");
  const ports = await Promise.all(Array.from({ length: 2 * n }, () => freePort()));
  const names = Array.from({ length: n }, (_, i) => `m${i}`);
  const cluster = names.map((nm, i) => `${nm}=http://127.0.0.1:${ports[2 * i + 1]}`).join(",");
  const members: EtcdMember[] = names.map((name, i) => {
    const client = `http://127.0.0.1:${ports[2 * i]}`;
    const peer = `http://127.0.0.1:${ports[2 * i + 1]}`;
    const dir = join(dataDir, name);
    mkdirSync(dir, { recursive: true });
    const proc = spawn(
      ETCD_BIN,
      [
        `--name=${name}`,
        `--data-dir=${dir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${cluster}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=slashguard-test",
        "--heartbeat-interval=50",
        "--election-timeout=500",
        "--log-level=error",
        "--logger=zap",
      ],
      { stdio: "ignore" },
    );
    return { name, clientUrl: client, proc };
  });
  const endpoints = members.map((m) => m.clientUrl);
  const out: EtcdCluster = {
    endpoints,
    members,
    async leader() {
      for (let i = 0; i < members.length; i++) {
        const m = members[i]!;
        if (m.proc.exitCode !== null || m.proc.signalCode !== null) continue;
        const c = new Etcd3({ hosts: m.clientUrl, dialTimeout: 1000 });
        try {
          const st = await c.maintenance.status({ deadline: Date.now() + 1000 });
          if (st.leader === st.header.member_id) return i;
        } catch {
          // down or no leader yet
        } finally {
          c.close();
        }
      }
      return -1;
    },
    kill(i) {
      members[i]!.proc.kill("SIGKILL");
    },
    async stop() {
      for (const m of members) m.proc.kill("SIGKILL");
      await Promise.all(
        members.map((m) =>
          m.proc.exitCode !== null || m.proc.signalCode !== null ? null : new Promise((r) => m.proc.once("exit", r)),
        ),
      );
    },
  };
  for (let tries = 0; (await out.leader()) < 0; tries++) {
    if (tries > 100) {
      await out.stop();
      throw new Error("etcd cluster did not elect a leader");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}
