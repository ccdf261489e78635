/**
 * The real `slashguard signer` process for benchmarks (bench/signer.ts, bench/events.ts): light keystores
 * cached between runs, the process started from dist/, attestation request bodies, one request, a
 * closed loop of them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { request } from "undici";
import { encryptKeystore } from "../src/keys/eip2335.js";
import { now, stats } from "./lib.js";

const REPO = resolve(import.meta.dirname, "..");
const CLI = join(REPO, "dist", "cli", "main.js");
export const GVR = `0x${"11".repeat(32)}`;
const KEYS_CACHE = join(tmpdir(), "slashguard-bench-keys");

/**
 * Keystores with a light KDF (pbkdf2 c = 2), generated once in this process (no fsync per file: 100,000
 * keys in well under a minute) and reused between runs; decryption is not what is measured.
 */
export async function keysDir(n: number): Promise<string> {
  const dir = join(KEYS_CACHE, String(n));
  if (!existsSync(dir) || readdirSync(dir).filter((f) => f.endsWith(".json")).length < n) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const { SecretKey } = (await import("@chainsafe/blst")).default;
    for (let i = 0; i < n; i++) {
      const sk = SecretKey.fromKeygen(randomBytes(32));
      const ks = await encryptKeystore(sk.toBytes(), sk.toPublicKey().toBytes(), "bench", { kdf: "pbkdf2", work: 2 });
      const name = `keystore-${String(i).padStart(6, "0")}`;
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(ks));
      writeFileSync(join(dir, `${name}.txt`), "bench", { mode: 0o600 });
    }
  }
  return dir;
}

export function startSigner(
  db: string,
  keys: string,
  port: number,
  tokenFile: string,
  extraArgs: readonly string[] = [],
): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((res, rej) => {
    const proc = spawn(
      process.execPath,
      [
        // e.g. SIGNER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the signer under load
        ...(process.env.SIGNER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        CLI,
        "signer",
        "--db",
        db,
        "--network",
        "custom",
        "--genesis-validators-root",
        GVR,
        "--keystores",
        keys,
        "--port",
        String(port),
        "--log-level",
        "warn",
        "--keymanager-token-file",
        tokenFile,
        // light keystores decrypt faster than the cache opens: the cache is bench/keyCache.ts's subject
        "--no-key-cache",
        // the bench measures signing; the guard's beacon-node check is not on this path
        "--no-doppelganger",
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) res({ proc, url: m[1]! });
    });
    proc.on("exit", (c) => rej(new Error(`signer exited ${c}`)));
  });
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;
export function body(i: number, epoch: number): string {
  return JSON.stringify({
    type: "ATTESTATION",
    fork_info: {
      fork: { previous_version: "0x05000000", current_version: "0x06000000", epoch: "0" },
      genesis_validators_root: GVR,
    },
    attestation: {
      slot: String(epoch * 32 + (i % 32)),
      index: "0",
      beacon_block_root: hex32(epoch * 100000 + i),
      source: { epoch: String(epoch - 1), root: hex32(1) },
      target: { epoch: String(epoch), root: hex32(epoch) },
    },
  });
}

// undici's request() rather than fetch(): the load generator shares the machine's cores with the signer,
// and fetch's WHATWG streams cost it several times more CPU per request
export async function post(url: string, key: string, b: string): Promise<number> {
  const r = await request(`${url}/api/v1/eth2/sign/${key}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: b,
  });
  await r.body.arrayBuffer();
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
  return r.statusCode;
}

/**
 * A closed loop of attestation requests: `inFlight` open at a time, request n for key n mod keys at epoch
 * `first` + n div keys, `total` in all. Each request's latency (ms), and the signatures per second.
 */
export async function closedLoop(
  url: string,
  keys: readonly string[],
  first: number,
  total: number,
  inFlight: number,
): Promise<{ rate: number; p50: number; p99: number; max: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) {
        const n = next++;
        if (n >= total) return;
        const t = now();
        await post(url, keys[n % keys.length]!, body(n % keys.length, first + Math.floor(n / keys.length)));
        lat.push(now() - t);
      }
    }),
  );
  return { rate: total / ((now() - t0) / 1000), ...stats(lat) };
}
