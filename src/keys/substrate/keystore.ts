import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileDurable } from "../../util/durableFile.js";
import { errorMessage } from "../../util/errors.js";
import { toHex } from "../../util/hex.js";
import { type Logger, nullLogger, shortKey } from "../../util/logger.js";
import { type KeyCrypto as CryptoType, KeyError, KeyErrorCode } from "./errors.js";
import { cryptoReady, generatePair, type KeyPair, pairFromSuri } from "./keyPair.js";
import { keystoreFileName, parseKeystoreFileName } from "./keystoreFiles.js";

export interface KeystoreKey {
  keyType: string;
  crypto: CryptoType;
  publicKey: Uint8Array;
}

/** A key the keystore serves: a software pair, or one that signs elsewhere (a PKCS#11 token). */
export type ServedPair = Omit<KeyPair, "sign"> & { sign(message: Uint8Array): Uint8Array | Promise<Uint8Array> };

const pubHex = (publicKey: Uint8Array): string => Buffer.from(publicKey).toString("hex");

const lookupKey = (keyType: string, crypto: CryptoType, publicKey: Uint8Array): string =>
  `${keyType}:${crypto}:${Buffer.from(publicKey).toString("hex")}`;

/**
 * A Substrate local keystore folder (sc-keystore layout): one file per key, named hex(key type) ‖
 * hex(public key), holding the secret URI as a JSON string. Files are read once at start; lookups are
 * in memory, so "not mine" answers never touch the disk or the database. New keys are written with
 * mode 0600 and fsync'd (file and folder) before the caller learns the public key.
 */
export class SubstrateKeystore {
  private readonly pairs = new Map<string, ServedPair>();
  private readonly byType = new Map<string, KeystoreKey[]>();

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static open(dir: string, logger: Logger = nullLogger): SubstrateKeystore {
    const ks = new SubstrateKeystore(dir, logger);
    const files = ks.keyFiles();
    // One public key, one key type: a key filed under several types is not served under any of them
    // (a message signed under one type can be a slashable message of another).
    const typesOf = new Map<string, Set<string>>();
    for (const f of files) {
      const k = pubHex(f.publicKey);
      typesOf.set(k, (typesOf.get(k) ?? new Set()).add(f.keyType));
    }
    for (const [k, types] of typesOf) {
      if (types.size > 1) {
        logger.error("Substrate key filed under several key types; not served", {
          publicKey: shortKey(`0x${k}`),
          keyTypes: [...types].sort(),
        });
      }
    }
    for (const f of files) {
      if (typesOf.get(pubHex(f.publicKey))!.size > 1) continue;
      try {
        const suri = readSuriFile(join(dir, f.name));
        ks.add(f.keyType, findPair(f.keyType, f.publicKey, suri));
      } catch (e) {
        // One bad file must not stop the others; the key it names is simply not served (fail closed).
        logger.warn("Substrate keystore file skipped", { file: f.name, reason: errorMessage(e) });
      }
    }
    return ks;
  }

  get size(): number {
    return this.pairs.size;
  }

  get(keyType: string, crypto: CryptoType, publicKey: Uint8Array): ServedPair | undefined {
    return this.pairs.get(lookupKey(keyType, crypto, publicKey));
  }

  has(keyType: string, crypto: CryptoType, publicKey: Uint8Array): boolean {
    return this.pairs.has(lookupKey(keyType, crypto, publicKey));
  }

  /** Public keys of one key type, optionally of one crypto type, in file-name order. */
  publicKeys(keyType: string, crypto?: CryptoType): Uint8Array[] {
    return (this.byType.get(keyType) ?? [])
      .filter((k) => crypto === undefined || k.crypto === crypto)
      .map((k) => k.publicKey);
  }

  list(): KeystoreKey[] {
    return [...this.byType.values()].flat();
  }

  /** A new key pair (random, or from the given SURI); nothing is written (see store). */
  derive(crypto: CryptoType, seed?: string): { pair: KeyPair; suri: string } {
    return seed === undefined || seed.length === 0
      ? generatePair(crypto)
      : { pair: pairFromSuri(crypto, seed), suri: seed };
  }

  /** sp_keystore insert: the SURI must derive the given public key under some crypto type; nothing is written. */
  pairFor(keyType: string, suri: string, publicKey: Uint8Array): { pair: KeyPair; suri: string } {
    return { pair: findPair(keyType, publicKey, suri), suri };
  }

  /**
   * One public key, one key type: throws ERR_SUBSTRATE_KEY_TYPE_CONFLICT when the key is held, or has
   * a file in the folder, under another key type.
   */
  assertOneType(keyType: string, publicKey: Uint8Array): void {
    const other =
      this.list().find((k) => k.keyType !== keyType && Buffer.compare(k.publicKey, publicKey) === 0)?.keyType ??
      this.keyFiles().find((f) => f.keyType !== keyType && Buffer.compare(f.publicKey, publicKey) === 0)?.keyType;
    if (other !== undefined) {
      throw new KeyError(
        KeyErrorCode.KeyTypeConflict,
        `public key ${toHex(publicKey)} is filed under key type ${other}, so it may not be filed as ${keyType}`,
      );
    }
  }

  /** Writes a key's file durably, then serves it; refused when the public key is filed under another type. */
  store(keyType: string, key: { pair: KeyPair; suri: string }): KeystoreKey {
    this.assertOneType(keyType, key.pair.publicKey);
    this.writeFile(keyType, key.pair.publicKey, key.suri);
    return this.add(keyType, key.pair);
  }

  /** Creates a key (random, or from the given SURI) and writes its file durably before returning. */
  generate(keyType: string, crypto: CryptoType, seed?: string): KeystoreKey {
    return this.store(keyType, this.derive(crypto, seed));
  }

  /** sp_keystore insert: the SURI must derive the given public key under some crypto type. */
  insert(keyType: string, suri: string, publicKey: Uint8Array): KeystoreKey {
    return this.store(keyType, this.pairFor(keyType, suri, publicKey));
  }

  /** The key files of the folder (other files are ignored), in name order. */
  private keyFiles(): { name: string; keyType: string; publicKey: Uint8Array }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      throw new KeyError(KeyErrorCode.Keystore, `cannot read ${this.dir}: ${errorMessage(e)}`);
    }
    return names.sort().flatMap((name) => {
      const id = parseKeystoreFileName(name);
      return id === null ? [] : [{ name, ...id }];
    });
  }

  /** A key held elsewhere (a PKCS#11 token): served like the folder's keys, never written to it. */
  addExternal(keyType: string, pair: ServedPair): KeystoreKey {
    this.assertOneType(keyType, pair.publicKey);
    return this.add(keyType, pair);
  }

  private add(keyType: string, pair: ServedPair): KeystoreKey {
    const k = lookupKey(keyType, pair.crypto, pair.publicKey);
    const entry: KeystoreKey = { keyType, crypto: pair.crypto, publicKey: pair.publicKey };
    if (!this.pairs.has(k)) {
      const list = this.byType.get(keyType) ?? [];
      list.push(entry);
      this.byType.set(keyType, list);
    }
    this.pairs.set(k, pair);
    this.logger.info("Substrate key loaded", {
      keyType,
      crypto: pair.crypto,
      publicKey: shortKey(toHex(pair.publicKey)),
    });
    return entry;
  }

  private writeFile(keyType: string, publicKey: Uint8Array, suri: string): void {
    writeFileDurable(join(this.dir, keystoreFileName(keyType, publicKey)), JSON.stringify(suri), 0o600);
  }
}

function readSuriFile(path: string): string {
  const text = readFileSync(path, "utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error("content is not a JSON string");
  }
  if (typeof v !== "string") throw new Error("content is not a JSON string");
  return v;
}

/**
 * The node stores no crypto type: a 33-byte key is ecdsa; a 32-byte key is whichever of sr25519 and
 * ed25519 derives it from the secret (ed25519 first for GRANDPA, whose keys are ed25519).
 */
function findPair(keyType: string, publicKey: Uint8Array, suri: string): KeyPair {
  const order: CryptoType[] =
    publicKey.length === 33 ? ["ecdsa"] : keyType === "gran" ? ["ed25519", "sr25519"] : ["sr25519", "ed25519"];
  for (const crypto of order) {
    let pair: KeyPair;
    try {
      pair = pairFromSuri(crypto, suri);
    } catch {
      continue;
    }
    if (Buffer.compare(pair.publicKey, publicKey) === 0) return pair;
  }
  throw new KeyError(
    KeyErrorCode.BadSuri,
    `the secret does not derive public key ${toHex(publicKey)} for key type ${keyType}`,
  );
}

export interface CopySummary {
  copied: number;
  alreadyThere: number;
  invalid: string[];
  /** Files not copied because their public key is (or would be) filed under another key type. */
  conflicts: string[];
}

/**
 * Copies key files between keystore folders (a node's and the signer's), checking every file first:
 * the name must be a key, the content a JSON string whose secret derives the named public key, and the
 * public key must not end up under two key types in the target (one public key, one key type). Files
 * already in the target are kept as they are; new ones are written 0600 and fsync'd.
 */
export async function copyKeystore(
  from: string,
  to: string,
  keyTypes: ReadonlySet<string> | null,
): Promise<CopySummary> {
  await cryptoReady();
  const summary: CopySummary = { copied: 0, alreadyThere: 0, invalid: [], conflicts: [] };
  const existing = new Set(readdirSync(to));
  const wanted = readdirSync(from)
    .sort()
    .flatMap((name) => {
      const id = parseKeystoreFileName(name);
      return id === null || (keyTypes !== null && !keyTypes.has(id.keyType)) ? [] : [{ name, ...id }];
    });
  const typesOf = new Map<string, Set<string>>();
  for (const f of [...wanted, ...[...existing].flatMap((n) => parseKeystoreFileName(n) ?? [])]) {
    const k = pubHex(f.publicKey);
    typesOf.set(k, (typesOf.get(k) ?? new Set()).add(f.keyType));
  }
  for (const { name, keyType, publicKey } of wanted) {
    if (existing.has(name)) {
      summary.alreadyThere++;
      continue;
    }
    if (typesOf.get(pubHex(publicKey))!.size > 1) {
      summary.conflicts.push(name);
      continue;
    }
    let suri: string;
    try {
      suri = readSuriFile(join(from, name));
      findPair(keyType, publicKey, suri);
    } catch {
      summary.invalid.push(name);
      continue;
    }
    writeFileDurable(join(to, name), JSON.stringify(suri), 0o600);
    summary.copied++;
  }
  return summary;
}
