import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { writeFileDurable } from "../util/durableFile.js";
import { onLanes } from "../util/lanes.js";
import { encryptKeystore, type KdfOptions } from "./eip2335.js";

export interface GeneratedKey {
  pubkey: Uint8Array;
  file: string;
}

/**
 * Creates `count` random BLS keys as EIP-2335 keystores NAME.json with random passwords in NAME.txt
 * (mode 0600). For demos and tests: real validator keys come from a deposit tool with a mnemonic.
 */
export async function generateKeystores(
  dir: string,
  count: number,
  kdf: KdfOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<GeneratedKey[]> {
  mkdirSync(dir, { recursive: true });
  const out: GeneratedKey[] = [];
  let done = 0;
  await onLanes(count, 4, async () => {
    const sk = blst.SecretKey.fromKeygen(randomBytes(32));
    const secret = sk.toBytes();
    const pubkey = sk.toPublicKey().toBytes();
    const password = randomBytes(16).toString("hex");
    const ks = await encryptKeystore(secret, pubkey, password, kdf);
    secret.fill(0);
    const name = `keystore-${Buffer.from(pubkey).toString("hex").slice(0, 16)}`;
    writeFileDurable(join(dir, `${name}.txt`), password);
    writeFileDurable(join(dir, `${name}.json`), JSON.stringify(ks));
    out.push({ pubkey, file: join(dir, `${name}.json`) });
    onProgress?.(++done, count);
  });
  return out;
}
