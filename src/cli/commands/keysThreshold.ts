import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import blst from "@chainsafe/blst";
import type { Command } from "commander";
import {
  addClusterKeys,
  assertThresholdParams,
  type BlsSharing,
  clusterKeyOf,
  DEFAULT_PBKDF2_C,
  DEFAULT_SCRYPT_N,
  dealBlsKey,
  loadKeystoreFile,
  readClusterFile,
  readPasswordFor,
  shareDir,
  ThresholdError,
  ThresholdErrorCode,
  writeClusterFile,
  writeShareKeystores,
} from "../../keys/index.js";
import { toHex } from "../../util/hex.js";
import { kdfOptions, parseKdf, parsePositiveInt } from "../options.js";

/**
 * `keys split` and the threshold form of `keys generate` (registered from keys.ts): a trusted dealer
 * cuts each key into N shares of threshold T, writes node i's share keystores to OUT/share-<i>/ and
 * adds the public parts to cluster.yaml. The whole keys exist only in this process, only while it runs.
 */
interface ThresholdFlags {
  threshold: number;
  shares: number;
  cluster: string;
  out: string;
  kdf: "scrypt" | "pbkdf2";
  kdfWork?: number;
}

const KDF_WORK_HELP = `scrypt n or pbkdf2 c of the share keystores (default ${DEFAULT_SCRYPT_N} / ${DEFAULT_PBKDF2_C}, as EIP-2335 recommends; lower only for tests)`;

/** Splits the given secrets, writes the shares and then (last, atomically) the cluster file. */
async function dealAll(
  o: ThresholdFlags,
  secrets: AsyncIterable<{ name: string; secret: Uint8Array }>,
): Promise<BlsSharing[]> {
  const cluster = readClusterFile(o.cluster);
  assertThresholdParams(o.threshold, o.shares);
  if (o.shares !== cluster.nodes.length) {
    throw new ThresholdError(
      { code: ThresholdErrorCode.ClusterFileInvalid, file: o.cluster, path: "nodes" },
      `--shares ${o.shares} but ${o.cluster} lists ${cluster.nodes.length} nodes (one share per node)`,
    );
  }
  // refuses another T before any share is written
  addClusterKeys(o.cluster, cluster, o.threshold, []);
  const present = new Set(cluster.keys.map((k) => k.groupPublicKeyHex));
  const done: BlsSharing[] = [];
  for await (const { name, secret } of secrets) {
    const pk = toHex(blst.SecretKey.fromBytes(secret).toPublicKey().toBytes());
    if (present.has(pk)) {
      secret.fill(0);
      throw new ThresholdError(
        { code: ThresholdErrorCode.ClusterFileInvalid, file: o.cluster, path: "keys" },
        `${name}: group key ${pk} is already in the cluster (a key is split once; new shares would not match the old ones)`,
      );
    }
    const sharing = dealBlsKey(secret, o.threshold, o.shares);
    secret.fill(0);
    await writeShareKeystores(o.out, name, sharing, kdfOptions(o));
    done.push(sharing);
    present.add(pk);
  }
  writeClusterFile(o.cluster, addClusterKeys(o.cluster, cluster, o.threshold, done.map(clusterKeyOf)));
  return done;
}

function randomKey(): Uint8Array {
  return blst.SecretKey.fromKeygen(randomBytes(32)).toBytes();
}

function report(o: ThresholdFlags, done: readonly BlsSharing[]): void {
  for (const s of done) process.stdout.write(`${toHex(s.groupPublicKey)} ${o.threshold}-of-${o.shares}\n`);
  process.stdout.write(
    `${done.length} group key(s) added to ${o.cluster}; node i's share keystores are in ${shareDir(o.out, 1).replace(/1$/, "<i>")}\n`,
  );
}

export function registerThresholdKeysCommands(keys: Command): void {
  keys
    .command("split")
    .description("split BLS keystores into T-of-N share keystores, one folder per cluster node (trusted dealer)")
    .argument("<keystore...>", "EIP-2335 keystores NAME.json (password in NAME.txt beside each)")
    .requiredOption("--threshold <t>", "shares needed to sign (T > N/2)", parsePositiveInt)
    .requiredOption("--shares <n>", "number of shares: the cluster's node count (at most 255)", parsePositiveInt)
    .requiredOption("--cluster <file>", "cluster.yaml from `slashguard cluster init` (the group keys are added to it)")
    .requiredOption("--out <dir>", "writes node i's shares to DIR/share-<i>/ (NAME.json + NAME.txt)")
    .option("--kdf <name>", "scrypt or pbkdf2", parseKdf, "scrypt")
    .option("--kdf-work <n>", KDF_WORK_HELP, parsePositiveInt)
    .action(async (files: string[], o: ThresholdFlags) => {
      assertThresholdParams(o.threshold, o.shares);
      async function* read(): AsyncIterable<{ name: string; secret: Uint8Array }> {
        for (const f of files) {
          const k = await loadKeystoreFile(f, readPasswordFor(f));
          yield { name: basename(f, ".json"), secret: k.secret };
        }
      }
      report(o, await dealAll(o, read()));
    });
}

/** Options `keys generate` takes for fresh threshold keys (added to the existing command). */
export function addThresholdGenerateOptions(cmd: Command): Command {
  return cmd
    .option(
      "--threshold <t>",
      "generate T-of-N threshold keys instead of whole ones (needs --shares and --cluster)",
      parsePositiveInt,
    )
    .option("--shares <n>", "number of shares: the cluster's node count (at most 255)", parsePositiveInt)
    .option("--cluster <file>", "cluster.yaml the group keys are added to");
}

/** True when `keys generate` was asked for threshold keys. */
export function isThresholdGenerate(o: object): boolean {
  const t = o as { threshold?: number; shares?: number };
  return t.threshold !== undefined || t.shares !== undefined;
}

/** `keys generate --threshold T --shares N --cluster FILE --out DIR [--count K]`: fresh keys, split at once. */
export async function generateThresholdKeys(flags: { count?: number; out: string }): Promise<void> {
  const o = flags as Partial<ThresholdFlags> & { count?: number; out: string };
  if (o.threshold === undefined || o.shares === undefined || o.cluster === undefined) {
    throw new ThresholdError(
      { code: ThresholdErrorCode.BadInput, field: "--threshold/--shares/--cluster" },
      "threshold keys need --threshold, --shares and --cluster",
    );
  }
  const f: ThresholdFlags = {
    ...o,
    threshold: o.threshold,
    shares: o.shares,
    cluster: o.cluster,
    kdf: o.kdf ?? "scrypt",
  };
  assertThresholdParams(f.threshold, f.shares);
  const count = o.count ?? 1;
  async function* fresh(): AsyncIterable<{ name: string; secret: Uint8Array }> {
    for (let i = 0; i < count; i++) {
      const secret = randomKey();
      const pk = Buffer.from(blst.SecretKey.fromBytes(secret).toPublicKey().toBytes()).toString("hex");
      yield { name: `keystore-${pk.slice(0, 16)}`, secret };
    }
  }
  report(f, await dealAll(f, fresh()));
}
