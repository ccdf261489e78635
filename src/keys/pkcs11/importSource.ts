import { randomFillSync } from "node:crypto";
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname } from "node:path";
import { ed25519FromSeed } from "../../util/curve25519.js";
import { fsyncDir } from "../../util/durableFile.js";
import { errorMessage } from "../../util/errors.js";
import { parseCometBftKeyFile } from "../cometbftKeyFile.js";
import { cryptoReady, ed25519SeedFromSuri } from "../substrate/keyPair.js";
import { parseKeystoreFileName } from "../substrate/keystoreFiles.js";
import { HsmError, HsmErrorCode } from "./errors.js";

/** An Ed25519 secret to move into a token. The caller wipes `seed` after use. */
export interface ImportSource {
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** What it is, for the CLI's output (no secret). */
  what: string;
}

function bad(file: string, why: string): HsmError {
  return new HsmError({ code: HsmErrorCode.ImportSource }, `${file}: ${why}`);
}

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw bad(file, `cannot read: ${errorMessage(e)}`);
  }
}

/** A CometBFT priv_validator_key.json, checked as the signer checks it (public key, address). */
export function readPrivValidatorKey(file: string): ImportSource {
  const text = read(file);
  const key = parseCometBftKeyFile(text, file);
  const raw = Buffer.from((JSON.parse(text) as { priv_key: { value: string } }).priv_key.value, "base64");
  const seed = new Uint8Array(raw.subarray(0, 32));
  raw.fill(0);
  return { seed, publicKey: key.publicKey, what: `CometBFT validator ${key.address}` };
}

/**
 * A Substrate keystore file (name hex(key type) ‖ hex(public key), content the SURI as a JSON string)
 * of an ed25519 key: the SURI's seed must derive the public key in the file's name.
 */
export async function readSubstrateKeyFile(file: string): Promise<ImportSource & { keyType: string }> {
  const id = parseKeystoreFileName(basename(file));
  if (id === null || id.publicKey.length !== 32)
    throw bad(file, "the file name must be hex(key type) and hex(32-byte public key), as in a node's keystore");
  let suri: unknown;
  try {
    suri = JSON.parse(read(file));
  } catch {
    throw bad(file, "content is not a JSON string");
  }
  if (typeof suri !== "string") throw bad(file, "content is not a JSON string");
  await cryptoReady();
  let seed: Uint8Array;
  try {
    seed = ed25519SeedFromSuri(suri);
  } catch {
    throw bad(file, "the secret is not a valid ed25519 secret URI");
  }
  const derived = ed25519FromSeed(seed).publicKey;
  if (Buffer.compare(derived, id.publicKey) !== 0) {
    seed.fill(0);
    throw bad(file, "the secret does not derive the file's public key as ed25519 (sr25519 keys cannot go to a token)");
  }
  return { seed, publicKey: id.publicKey, what: `Substrate ${id.keyType} key`, keyType: id.keyType };
}

/**
 * Overwrites the file with random bytes, flushes, removes it and flushes its folder. On copy-on-write
 * or flash storage old blocks may survive (see docs/hsm.md); this is the best a program can do.
 */
export function secureDelete(file: string): void {
  const fd = openSync(file, "r+");
  try {
    const size = fstatSync(fd).size;
    const noise = Buffer.alloc(Math.min(size, 1 << 20));
    for (let done = 0; done < size; ) {
      const n = Math.min(noise.length, size - done);
      randomFillSync(noise, 0, n);
      done += writeSync(fd, noise, 0, n, done);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(file);
  fsyncDir(dirname(file));
}
