import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileDurable } from "../../util/durableFile.js";
import { toHex } from "../../util/hex.js";
import { encryptKeystore, type KdfOptions } from "../eip2335.js";
import { KeyError, KeyErrorCode } from "../errors.js";
import { type KeyLoadFailure, type LoadOptions, loadKeystoreDir } from "../keystoreDir.js";
import { type CachedLoadResult, loadKeystoreDirCached } from "../keystoreDirCached.js";
import type { BlsShare, BlsSharing } from "./blsThreshold.js";
import type { Cluster, ClusterKey } from "./clusterFile.js";
import { bls12381G1 as g } from "./group.js";
import { commitmentAt } from "./shamir.js";

/** Node i's share keystores live in DIR/share-<i>/. */
export function shareDir(outDir: string, index: number): string {
  return join(outDir, `share-${index}`);
}

/** The cluster-file entry of a sharing (public data only). */
export function clusterKeyOf(s: BlsSharing): ClusterKey {
  return {
    groupPublicKey: s.groupPublicKey,
    groupPublicKeyHex: toHex(s.groupPublicKey),
    commitments: s.commitments,
    sharePublicKeys: s.shares.map((x) => x.publicKey),
  };
}

/**
 * Writes one EIP-2335 keystore per share, NAME.json with its own random password in NAME.txt
 * (mode 0600), into each node's folder. The secrets are zeroed afterwards.
 */
export async function writeShareKeystores(outDir: string, name: string, s: BlsSharing, kdf: KdfOptions): Promise<void> {
  for (const share of s.shares)
    await writeShareKeystore(outDir, name, share, s.groupPublicKey, s.shares.length, s.threshold, kdf);
}

/** Writes one node's share keystore (NAME.json + NAME.txt in OUT/share-<i>/) and zeroes the secret. */
export async function writeShareKeystore(
  outDir: string,
  name: string,
  share: BlsShare,
  groupPublicKey: Uint8Array,
  shares: number,
  threshold: number,
  kdf: KdfOptions,
): Promise<void> {
  const dir = shareDir(outDir, share.index);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = randomBytes(16).toString("hex");
  const ks = await encryptKeystore(share.secret, share.publicKey, password, kdf);
  ks.description = `slashguard threshold share ${share.index} of ${shares} (threshold ${threshold}) for ${toHex(groupPublicKey)}`;
  share.secret.fill(0);
  writeFileDurable(join(dir, `${name}.txt`), password);
  writeFileDurable(join(dir, `${name}.json`), JSON.stringify(ks));
}

/** Node `index`'s share of one group key, ready for the signing pool. */
export interface ThresholdKeyShare {
  key: ClusterKey;
  index: number;
  secret: Uint8Array;
  sharePublicKey: Uint8Array;
  file: string;
}

export interface ShareLoadOptions extends LoadOptions {
  /** Through the key cache (keys/keystoreDirCached.ts: the same rules as for single keys). */
  cache?: Pick<Parameters<typeof loadKeystoreDirCached>[1], "cacheFile" | "logger">;
}

/**
 * Loads node `index`'s share keystores (through the key cache when `opts.cache` is set) and matches
 * each to its group key in the cluster file by the share's public key, then checks it against the
 * Feldman commitments, whether it came from its keystore or from the cache (a share that does not
 * match is reported and not loaded). Group keys without a share here are simply not served by this node.
 */
export async function loadShareKeystores(
  cluster: Cluster,
  index: number,
  dir: string,
  opts: ShareLoadOptions = {},
): Promise<{ shares: ThresholdKeyShare[]; failures: KeyLoadFailure[]; cached: CachedLoadResult | null }> {
  const { cache, ...loadOpts } = opts;
  const cached = cache === undefined ? null : await loadKeystoreDirCached(dir, { ...loadOpts, ...cache });
  const { keys, failures } = cached ?? (await loadKeystoreDir(dir, loadOpts));
  const byShare = new Map(cluster.keys.map((k) => [toHex(k.sharePublicKeys[index - 1]!), k]));
  const shares: ThresholdKeyShare[] = [];
  for (const k of keys) {
    const key = byShare.get(toHex(k.pubkey));
    const feldman =
      key !== undefined &&
      g.equals(
        g.decodePoint(k.pubkey, "share public key"),
        commitmentAt(
          g,
          key.commitments.map((c, i) => g.decodePoint(c, `commitment ${i}`)),
          index,
        ),
      );
    if (key === undefined || !feldman) {
      k.secret.fill(0);
      failures.push({
        file: k.file,
        error: new KeyError(
          { code: KeyErrorCode.KeystorePubkeyMismatch, file: k.file },
          key === undefined
            ? `keystore ${k.file} is not share ${index} of any group key in the cluster file`
            : `keystore ${k.file}: share ${index} does not match the group key's commitments (Feldman check)`,
        ),
      });
      continue;
    }
    shares.push({ key, index, secret: k.secret, sharePublicKey: k.pubkey, file: k.file });
  }
  return { shares, failures, cached };
}
