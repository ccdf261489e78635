import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { isAppError } from "../util/errors.js";
import { onLanes } from "../util/lanes.js";
import { blsPublicKey } from "./blsPool.js";
import { DEFAULT_KDF_LIMITS, decryptKeystore, type KdfLimits, parseKeystore } from "./eip2335.js";
import { KeyError, KeyErrorCode } from "./errors.js";

export interface LoadedBlsKey {
  pubkey: Uint8Array;
  secret: Uint8Array;
  /** Keystore file it came from. */
  file: string;
}

export interface KeyLoadFailure {
  file: string;
  error: KeyError;
}

export interface LoadOptions {
  /** Folder with NAME.txt password files, if not beside the keystores. */
  passwordsDir?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** KDF work a keystore may ask for (default: what EIP-2335 tools write). */
  kdfLimits?: KdfLimits;
}

/**
 * The password for NAME.json: NAME.txt in the passwords folder, else beside the keystore (where the
 * keymanager API writes the keystores it imports, so they load again after a restart). One trailing
 * newline is dropped.
 */
export function readPasswordFor(keystoreFile: string, passwordsDir?: string, tryBeside = true): string {
  const name = `${basename(keystoreFile, ".json")}.txt`;
  const beside = join(keystoreFile, "..", name);
  const candidates = [
    ...(passwordsDir === undefined ? [] : [join(passwordsDir, name)]),
    ...(tryBeside ? [beside] : []),
  ];
  for (const c of candidates) {
    try {
      return readFileSync(c, "utf8").replace(/\r?\n$/, "");
    } catch {
      // try the next place
    }
  }
  throw new KeyError(
    { code: KeyErrorCode.KeystorePasswordMissing, file: keystoreFile },
    `no password file ${name} for keystore ${keystoreFile}`,
  );
}

/** Decrypts one keystore file with its password and checks the stored public key. */
export async function loadKeystoreFile(
  file: string,
  password: string,
  limits: KdfLimits = DEFAULT_KDF_LIMITS,
): Promise<LoadedBlsKey> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new KeyError(
      { code: KeyErrorCode.KeystoreInvalid, file },
      `keystore ${file} is not readable: ${(e as Error).message}`,
    );
  }
  return loadKeystoreBytes(file, bytes, password, limits);
}

/** loadKeystoreFile on content already read (the key cache checksums exactly what was decrypted). */
export async function loadKeystoreBytes(
  file: string,
  bytes: Uint8Array,
  password: string,
  limits: KdfLimits = DEFAULT_KDF_LIMITS,
): Promise<LoadedBlsKey> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    throw new KeyError(
      { code: KeyErrorCode.KeystoreInvalid, file },
      `keystore ${file} is not readable JSON: ${(e as Error).message}`,
    );
  }
  const ks = parseKeystore(json, file);
  const secret = await decryptKeystore(ks, password, file, limits);
  const pubkey = blsPublicKey(secret);
  if (ks.pubkey !== undefined && ks.pubkey !== "" && Buffer.from(pubkey).toString("hex") !== ks.pubkey.toLowerCase()) {
    throw new KeyError(
      { code: KeyErrorCode.KeystorePubkeyMismatch, file },
      `keystore ${file}: pubkey does not match the secret`,
    );
  }
  return { pubkey, secret, file };
}

/** Whether a folder entry is a regular file (a symbolic link is followed, as statSync would). */
function isFileEntry(dir: string, d: Dirent): boolean {
  if (d.isFile()) return true;
  if (!d.isSymbolicLink()) return false;
  try {
    return statSync(join(dir, d.name)).isFile();
  } catch {
    return false;
  }
}

/** A keystore folder in one read: its NAME.json files (sorted, full paths) and its *.txt names. */
export interface KeystoreFolder {
  dir: string;
  files: string[];
  txt: Set<string>;
}

/** Lists a keystore folder once (no stat per file, except to follow a symbolic link). */
export function listKeystoreFolder(dir: string): KeystoreFolder {
  const json: string[] = [];
  const txt = new Set<string>();
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.name.endsWith(".json") && isFileEntry(dir, d)) json.push(d.name);
    else if (d.name.endsWith(".txt")) txt.add(d.name);
  }
  return { dir, files: json.sort().map((f) => join(dir, f)), txt };
}

/** The NAME.json files of a keystore folder, sorted. */
export function listKeystoreFiles(dir: string): string[] {
  return listKeystoreFolder(dir).files;
}

/**
 * readPasswordFor for the keystores of one listed folder: a place where a listing has no NAME.txt is
 * not tried (a file that is listed but cannot be read is passed over as readPasswordFor does).
 */
export function passwordReader(folder: KeystoreFolder, passwordsDir?: string): (keystoreFile: string) => string {
  let inDir: Set<string> | null = null;
  try {
    if (passwordsDir !== undefined) inDir = new Set(readdirSync(passwordsDir).filter((n) => n.endsWith(".txt")));
  } catch {
    // not listable: try each file, as readPasswordFor does
  }
  const home = resolve(folder.dir);
  return (keystoreFile) => {
    const name = `${basename(keystoreFile, ".json")}.txt`;
    const tryDir = passwordsDir !== undefined && (inDir === null || inDir.has(name));
    const tryBeside = resolve(keystoreFile, "..") !== home || folder.txt.has(name);
    return readPasswordFor(keystoreFile, tryDir ? passwordsDir : undefined, tryBeside);
  };
}

/** A failure as a KeyError with the file named (anything else becomes ERR_KEYSTORE_INVALID). */
export function keyLoadFailure(file: string, e: unknown): KeyLoadFailure {
  const error =
    isAppError(e) && e instanceof KeyError
      ? e
      : new KeyError({ code: KeyErrorCode.KeystoreInvalid, file }, `keystore ${file}: ${(e as Error).message}`);
  return { file, error };
}

/**
 * Loads every NAME.json keystore of a folder, decrypting on all cores (node's KDFs run on the libuv
 * pool). A file that fails is reported with its name and skipped; it never stops the others.
 */
export async function loadKeystoreDir(
  dir: string,
  opts: LoadOptions = {},
): Promise<{ keys: LoadedBlsKey[]; failures: KeyLoadFailure[] }> {
  const folder = listKeystoreFolder(dir);
  const files = folder.files;
  const password = passwordReader(folder, opts.passwordsDir);
  return runAll(
    files.length,
    (i) => loadKeystoreFile(files[i]!, password(files[i]!), opts.kdfLimits),
    (i, e) => keyLoadFailure(files[i]!, e),
    opts,
  );
}

/** Runs `count` key loads on `concurrency` lanes (the KDFs run on libuv's pool); keys sorted by file. */
export async function runAll(
  count: number,
  load: (i: number) => Promise<LoadedBlsKey>,
  fail: (i: number, e: unknown) => KeyLoadFailure,
  opts: Pick<LoadOptions, "concurrency" | "onProgress">,
): Promise<{ keys: LoadedBlsKey[]; failures: KeyLoadFailure[] }> {
  const keys: LoadedBlsKey[] = [];
  const failures: KeyLoadFailure[] = [];
  let done = 0;
  await onLanes(count, opts.concurrency ?? availableParallelism(), async (i) => {
    try {
      keys.push(await load(i));
    } catch (e) {
      failures.push(fail(i, e));
    }
    opts.onProgress?.(++done, count);
  });
  keys.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { keys, failures };
}
