import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "./vectors.js";

/** A real Lodestar 1.5.1 (test/e2e/lodestar, installed by .ci/run with its own lockfile). */
export const LODESTAR_DIR = join(REPO_ROOT, "test", "e2e", "lodestar");
const LODESTAR_CLI = join(LODESTAR_DIR, "node_modules", "@chainsafe", "lodestar", "lib", "index.js");
export const LODESTAR_AVAILABLE = existsSync(LODESTAR_CLI);
if (!LODESTAR_AVAILABLE) {
  console.warn(`Lodestar is not installed in ${LODESTAR_DIR}: its end-to-end tests are SKIPPED (run npm ci there)`);
}
export const SECONDS_PER_SLOT = 2;
export const SLOTS_PER_EPOCH = 8;
const CHAIN_PARAMS = ["--params.SECONDS_PER_SLOT", String(SECONDS_PER_SLOT), "--params.ALTAIR_FORK_EPOCH", "0"];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

function start(args: string[], cwd: string): Proc {
  mkdirSync(cwd, { recursive: true });
  const child = spawn(process.execPath, [LODESTAR_CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    log: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** `lodestar dev`: a single-node beacon chain of interop validators (8 by default; none run here: they sign elsewhere). */
export async function startBeaconNode(
  dir: string,
  validators = 8,
  /** Genesis this long after now (default: lodestar's own, about 5 s): room to start slow signers first. */
  genesisDelaySeconds?: number,
): Promise<{ proc: Proc; url: string }> {
  // freePort() only finds a port free now: another process of the run can take it before lodestar
  // binds (libp2p: "could not listen on any available address"). A node that exits before it answers
  // is started again on new ports.
  for (let attempt = 1; ; attempt++) {
    const rest = await freePort();
    const p2p = await freePort();
    const proc = start(
      [
        "dev",
        "--genesisValidators",
        String(validators),
        "--reset",
        "--dataDir",
        join(dir, "bn"),
        "--rest.port",
        String(rest),
        "--port",
        String(p2p),
        "--discv5",
        "false",
        ...(genesisDelaySeconds === undefined
          ? []
          : ["--genesisTime", String(Math.floor(Date.now() / 1000) + genesisDelaySeconds)]),
        ...CHAIN_PARAMS,
      ],
      dir,
    );
    const url = `http://127.0.0.1:${rest}`;
    const exited = (): boolean => proc.child.exitCode !== null || proc.child.signalCode !== null;
    await waitFor(
      async () => exited() || (await fetch(`${url}/eth/v1/beacon/genesis`)).ok,
      90_000,
      () => proc.log(),
    );
    if (!exited()) return { proc, url };
    if (attempt === 3)
      throw new Error(`the beacon node exited before it answered, 3 times\n${proc.log().slice(-4000)}`);
  }
}

/** A Lodestar validator client signing through an external (Web3Signer API) signer. */
export function startExternalSignerVc(
  dir: string,
  beaconUrl: string,
  signerUrl: string,
  opts: { name?: string; graffiti?: string } = {},
): Proc {
  return start(
    [
      "validator",
      "--network",
      "dev",
      ...CHAIN_PARAMS,
      "--server",
      beaconUrl,
      "--dataDir",
      join(dir, opts.name ?? "vc"),
      ...(opts.graffiti === undefined ? [] : ["--graffiti", opts.graffiti]),
      "--externalSigner.url",
      signerUrl,
      "--externalSigner.fetch",
      "--suggestedFeeRecipient",
      `0x${"aa".repeat(20)}`,
    ],
    dir,
  );
}

/** A Lodestar validator client with its own interop keys (a twin, for doppelganger tests; or the rest of the network). */
export function startLocalKeysVc(dir: string, beaconUrl: string, indexes: string, name = "vc-twin"): Proc {
  return start(
    [
      "validator",
      "--network",
      "dev",
      ...CHAIN_PARAMS,
      "--server",
      beaconUrl,
      "--dataDir",
      join(dir, name),
      "--interopIndexes",
      indexes,
      "--suggestedFeeRecipient",
      `0x${"bb".repeat(20)}`,
    ],
    dir,
  );
}

/** Interop secret keys of the dev chain, computed by lodestar itself. */
export function interopSecretKeys(n: number): Uint8Array[] {
  const out = execFileSync(process.execPath, [join(LODESTAR_DIR, "interopKeys.mjs"), String(n)], {
    cwd: LODESTAR_DIR,
    encoding: "utf8",
  });
  return out
    .trim()
    .split("\n")
    .map((h) => new Uint8Array(Buffer.from(h, "hex")));
}

export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  diag: () => string = () => "",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms\n${diag().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function beaconGet<T>(url: string, path: string): Promise<T> {
  const r = await fetch(`${url}${path}`);
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return ((await r.json()) as { data: T }).data;
}

/**
 * The genesis validators root and GENESIS_FORK_VERSION `lodestar dev` will have with N interop
 * validators, computed by lodestar's own dev genesis code before any beacon node runs (the root does
 * not depend on the genesis time): slow signers can then start first, and the chain starts when they are up.
 */
export function devGenesis(n: number): { genesis_validators_root: string; GENESIS_FORK_VERSION: string } {
  const out = execFileSync(process.execPath, [join(LODESTAR_DIR, "devGenesis.mjs"), String(n)], {
    cwd: LODESTAR_DIR,
    encoding: "utf8",
    env: { ...process.env, LODESTAR_PRESET: "minimal" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  return JSON.parse(out.trim()) as { genesis_validators_root: string; GENESIS_FORK_VERSION: string };
}
