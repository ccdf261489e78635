import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cometAddressOf } from "../../src/keys/cometbftKeyFile.js";
import type { Ed25519Key } from "../../src/util/curve25519.js";
import { REPO_ROOT } from "./vectors.js";

/** Writes a priv_validator_key.json for a test key (seed known to the test). */
export function writeKeyFile(dir: string, seed: Uint8Array, key: Ed25519Key, name = "priv_validator_key.json"): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      address: cometAddressOf(key.publicKey),
      pub_key: { type: "tendermint/PubKeyEd25519", value: Buffer.from(key.publicKey).toString("base64") },
      priv_key: { type: "tendermint/PrivKeyEd25519", value: Buffer.concat([seed, key.publicKey]).toString("base64") },
    }),
    { mode: 0o600 },
  );
  return file;
}

export interface SignerConfig {
  dir: string;
  name: string;
  chainId: string;
  /** The key: a priv_validator_key.json, or a key in a PKCS#11 token (`key: {pkcs11: …}`). */
  keyFile: string | { module: string; tokenLabel: string; pinFile: string; keyLabel: string };
  nodes: string[];
  stateFile?: string;
  db?: string;
}

/** Writes the signer's own YAML (HTTP on port 0) and the CometBFT YAML; returns the two paths. */
export function writeSignerConfig(c: SignerConfig): { main: string; comet: string } {
  const main = join(c.dir, `${c.name}-signer.yaml`);
  const comet = join(c.dir, `${c.name}-cometbft.yaml`);
  writeFileSync(main, "http:\n  host: 127.0.0.1\n  port: 0\nlog_level: warn\n");
  const lines = [
    ...(c.db === undefined ? [] : [`db: ${JSON.stringify(c.db)}`]),
    "timeouts:",
    "  retry_min: 20ms",
    "  retry_max: 200ms",
    "chains:",
    `  - chain_id: ${JSON.stringify(c.chainId)}`,
    ...(typeof c.keyFile === "string"
      ? [`    key_file: ${JSON.stringify(c.keyFile)}`]
      : [
          "    key:",
          "      pkcs11:",
          `        module: ${JSON.stringify(c.keyFile.module)}`,
          `        token_label: ${JSON.stringify(c.keyFile.tokenLabel)}`,
          `        pin_file: ${JSON.stringify(c.keyFile.pinFile)}`,
          `        key_label: ${JSON.stringify(c.keyFile.keyLabel)}`,
        ]),
    ...(c.stateFile === undefined ? [] : [`    state_file: ${JSON.stringify(c.stateFile)}`]),
    "    nodes:",
    ...c.nodes.map((n) => `      - ${JSON.stringify(n)}`),
  ];
  writeFileSync(comet, `${lines.join("\n")}\n`);
  return { main, comet };
}

export interface SignerProcess {
  proc: ChildProcess;
  /** The HTTP address it printed (health, metrics). */
  url: string;
  stderr(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown code runs. */
  kill(): Promise<void>;
}

const MAIN = join(REPO_ROOT, "dist/cli/main.js");

/** Starts `node dist/cli/main.js signer …` and waits for its listening line (or its exit). */
export async function startSigner(args: string[]): Promise<SignerProcess> {
  const proc = spawn(process.execPath, [MAIN, "signer", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`signer exited with ${code} before listening: ${err}`)));
  });
  return {
    proc,
    url,
    stderr: () => err,
    stop: async () => {
      proc.kill("SIGTERM");
      return exited;
    },
    kill: async () => {
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs the CLI to completion; resolves with its exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // "close": both pipes are drained (at "exit" the last lines may still be on their way)
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
