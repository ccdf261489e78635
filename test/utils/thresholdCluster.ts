import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { encryptKeystore } from "../../src/keys/eip2335.js";
import { runCli } from "./cli.js";
import { freePort } from "./lodestar.js";
import { type SignerProcess, startSignerProcess } from "./signerProcess.js";

/** A cluster folder made by the real CLI: cluster init, then keys split of the given secrets. */
export interface TestCluster {
  dir: string;
  file: string;
  ports: number[];
  groupKeys: string[];
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`slashguard ${args.slice(0, 2).join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** `cluster init` on free loopback ports, then `keys split` of `secrets` (written as light-KDF keystores). */
export async function makeCluster(
  dir: string,
  nodes: number,
  threshold: number,
  secrets: readonly Uint8Array[],
): Promise<TestCluster> {
  const ports: number[] = [];
  for (let i = 0; i < nodes; i++) ports.push(await freePort());
  await cli(["cluster", "init", "--nodes", ports.map((p) => `127.0.0.1:${p}`).join(","), "--out", dir]);
  const whole = join(dir, "whole");
  mkdirSync(whole, { recursive: true });
  const files: string[] = [];
  for (const [i, sk] of secrets.entries()) {
    const pk = blst.SecretKey.fromBytes(sk).toPublicKey().toBytes();
    const f = join(whole, `key-${i}.json`);
    writeFileSync(f, JSON.stringify(await encryptKeystore(sk, pk, "pw", { kdf: "pbkdf2", work: 16 })));
    writeFileSync(join(whole, `key-${i}.txt`), "pw");
    files.push(f);
  }
  const out = await cli([
    "keys",
    "split",
    "--threshold",
    String(threshold),
    "--shares",
    String(nodes),
    "--cluster",
    join(dir, "cluster.yaml"),
    "--out",
    dir,
    "--kdf",
    "pbkdf2",
    "--kdf-work",
    "16",
    ...files,
  ]);
  const groupKeys = out
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("0x"))
    .map((l) => l.split(" ")[0]!);
  return { dir, file: join(dir, "cluster.yaml"), ports, groupKeys };
}

/** Starts node `index` of a test cluster (its own SQLite store), with the given network flags. */
export function startNode(c: TestCluster, index: number, net: string[], extra: string[] = []): Promise<SignerProcess> {
  return startSignerProcess([
    "--db",
    `sqlite:${join(c.dir, `node-${index}.db`)}`,
    ...net,
    "--cluster",
    c.file,
    "--node",
    String(index),
    "--keystores",
    join(c.dir, `share-${index}`),
    "--keymanager-token-file",
    join(c.dir, `token-${index}`),
    ...extra,
  ]);
}

/** Sum of the samples of a Prometheus text exposition whose labels include `labels` (0 when none). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
