/**
 * Signer start-up to /upcheck with scrypt keystores (n = 2^18, r = 8, as staking-deposit-cli writes
 * them): cold (every keystore decrypted; the cache written) and cached (the key cache), beside the raw
 * scrypt rate on all cores in the same run.
 *
 *   npm run build && node --import tsx bench/keyCache.ts [--cold 32] [--cached 1000,10000]
 *
 * Keystores are made cheaply: one scrypt derivation (one password, one salt) encrypts every key, each
 * with its own key and IV. The signer cannot tell: each still costs a full n = 2^18 derivation to
 * decrypt. The cache of the "cached" runs is sealed by this script with the library the signer uses
 * (keys/keyCache.ts, as a first start would write it: that start costs N keystore decryptions, which
 * the "cold" row measures on a subset); the signer's "Keys loaded" log line is checked for N from cache.
 */
import { spawn } from "node:child_process";
import { createCipheriv, createHash, randomBytes, randomUUID, scrypt } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import blst from "@chainsafe/blst";
import { KEY_CACHE_FILE } from "../src/cli/signer/ethereumSection.js";
import { type CacheEntry, sealAll, writeKeyCache } from "../src/keys/keyCache.js";
import { arg, machine, now, table } from "./lib.js";

const COLD = Number(arg("cold", "32"));
const CACHED = arg("cached", "1000,10000").split(",").map(Number);
const N = 262_144;
const CLI = join(resolve(import.meta.dirname, ".."), "dist", "cli", "main.js");
const GVR = `0x${"11".repeat(32)}`;

const derive = (pw: Buffer, salt: Buffer): Promise<Buffer> =>
  new Promise((res, rej) =>
    scrypt(pw, salt, 32, { N, r: 8, p: 1, maxmem: 300 << 20 }, (e, k) => (e ? rej(e) : res(k))),
  );

/** N keystores sharing one derivation (see the header), and optionally their key cache. */
async function makeKeystores(dir: string, n: number, withCache: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const password = "bench-password";
  const salt = randomBytes(32);
  const dk = await derive(Buffer.from(password), salt);
  const entries: CacheEntry[] = [];
  for (let i = 0; i < n; i++) {
    const sk = blst.SecretKey.fromKeygen(randomBytes(32));
    const secret = sk.toBytes();
    const pubkey = sk.toPublicKey().toBytes();
    const iv = randomBytes(16);
    const c = createCipheriv("aes-128-ctr", dk.subarray(0, 16), iv);
    const ct = Buffer.concat([c.update(secret), c.final()]);
    const ks = {
      crypto: {
        kdf: { function: "scrypt", params: { dklen: 32, n: N, r: 8, p: 1, salt: salt.toString("hex") }, message: "" },
        checksum: {
          function: "sha256",
          params: {},
          message: createHash("sha256").update(dk.subarray(16, 32)).update(ct).digest("hex"),
        },
        cipher: { function: "aes-128-ctr", params: { iv: iv.toString("hex") }, message: ct.toString("hex") },
      },
      description: "",
      pubkey: Buffer.from(pubkey).toString("hex"),
      path: `m/12381/3600/${i}/0/0`,
      uuid: randomUUID(),
      version: 4,
    };
    const name = `keystore-${String(i).padStart(6, "0")}`;
    const json = JSON.stringify(ks);
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(dir, `${name}.txt`), password);
    const checksum = new Uint8Array(createHash("sha256").update(json).digest());
    entries.push({ name: `${name}.json`, checksum, pubkey, secret });
  }
  if (withCache) writeKeyCache(join(dir, KEY_CACHE_FILE), await sealAll(entries, () => password));
}

/** Derivations per second on all cores (libuv's pool, as the signer's start-up uses it). */
async function rawScrypt(count: number): Promise<number> {
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: availableParallelism() }, async () => {
      while (next++ < count) await derive(randomBytes(16), randomBytes(32));
    }),
  );
  return count / ((now() - t0) / 1000);
}

/** Spawn → first 200 from /upcheck (the server listens once every key is loaded). */
async function startUp(keys: string): Promise<{ ms: number; fromCache: number; decrypted: number }> {
  const data = mkdtempSync(join(tmpdir(), "sg-kc-db-"));
  const t0 = now();
  const proc = spawn(
    process.execPath,
    [
      CLI,
      "signer",
      "--db",
      `sqlite:${join(data, "sg.db")}`,
      "--network",
      "custom",
      "--genesis-validators-root",
      GVR,
      "--keystores",
      keys,
      "--port",
      "0",
      "--log-level",
      "info",
      "--no-keymanager",
      "--no-doppelganger",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d) => {
    err += d;
  });
  try {
    const url = await new Promise<string>((res, rej) => {
      proc.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) res(m[1]!);
      });
      proc.on("exit", (c) => rej(new Error(`signer exited ${c}: ${err.slice(-2000)}`)));
    });
    for (;;) {
      const r = await fetch(`${url}/upcheck`).catch(() => null);
      if (r?.status === 200) break;
    }
    const ms = now() - t0;
    const m = /"fromCache":(\d+),"decrypted":(\d+)/.exec(err);
    return { ms, fromCache: Number(m?.[1] ?? -1), decrypted: Number(m?.[2] ?? -1) };
  } finally {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    rmSync(data, { recursive: true, force: true });
  }
}

const root = mkdtempSync(join(tmpdir(), "sg-kc-"));
console.log(
  `${machine()}; load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
const rows: (string | number)[][] = [];
try {
  const raw = await rawScrypt(4 * availableParallelism());
  console.log(`raw scrypt n=2^18 on ${availableParallelism()} cores: ${raw.toFixed(2)}/s`);
  // the fixed cost of a start (node, modules, store, threads), so the keys' share can be read off
  const emptyDir = join(root, "empty");
  mkdirSync(emptyDir);
  // twice: the first start of a run also pays for cold file caches
  const empty = Math.min((await startUp(emptyDir)).ms, (await startUp(emptyDir)).ms);
  const row = (label: string, r: { ms: number; fromCache: number; decrypted: number }, rawS: number | string) => [
    label,
    String(r.fromCache),
    String(r.decrypted),
    r.ms / 1000,
    (r.ms - empty) / 1000,
    rawS,
    "-",
  ];
  rows.push(row("0 (empty folder)", { ms: empty, fromCache: 0, decrypted: 0 }, "-"));
  const coldDir = join(root, "cold");
  await makeKeystores(coldDir, COLD, false);
  const cold = await startUp(coldDir);
  rows.push([
    ...row(`${COLD} cold`, cold, COLD / raw).slice(0, -1),
    `${((COLD / raw / ((cold.ms - empty) / 1000)) * 100).toFixed(0)}%`,
  ]);
  rows.push(row(`${COLD} cached (written by the cold start)`, await startUp(coldDir), "-"));
  for (const n of CACHED) {
    const dir = join(root, String(n));
    await makeKeystores(dir, n, true);
    rows.push(row(`${n} cached`, await startUp(dir), n / raw));
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    table(
      [
        "keystores",
        "from cache",
        "decrypted",
        "to /upcheck (s)",
        "minus the empty start (s)",
        "raw scrypt for them, all cores (s)",
        "of the scrypt limit",
      ],
      rows,
    ),
  );
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
