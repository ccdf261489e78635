import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { EthNetwork } from "../../chains/ethereum/index.js";
import type { AddedKeystore, KeyCacheUpdater, KeystoreDecryptor } from "../../keys/index.js";
import { kdfParams, parseKeystore } from "../../keys/index.js";
import type { EthereumProtection } from "../../protection/index.js";
import { exportInterchange, importInterchange } from "../../protection/index.js";
import type { Store } from "../../store/index.js";
import { ethValidatorsRepository } from "../../store/index.js";
import { writeFileDurable } from "../../util/durableFile.js";
import { AppError, BadRequestError, errorMessage, isAppError } from "../../util/errors.js";
import { toHex } from "../../util/hex.js";
import type { Logger } from "../../util/logger.js";
import type { EthSigner } from "./ethSigner.js";

export type ImportStatus = { status: "imported" | "duplicate" | "error"; message?: string };
export type DeleteStatus = { status: "deleted" | "not_active" | "not_found" | "error"; message?: string };

export interface KeymanagerModules {
  signer: EthSigner;
  protection: EthereumProtection;
  store: Store;
  network: EthNetwork;
  logger: Logger;
  /** Where imported keystores are written (NAME.json + NAME.txt), so they load again after a restart. */
  keystoresDir: string;
  /** Called for every key that becomes active (the doppelganger guard starts watching it). */
  onKeysActivated?: (pubkeys: string[]) => void;
  /** Called for every key deleted from the signer (the doppelganger guard forgets it). */
  onKeysRemoved?: (pubkeys: string[]) => void;
  /** Decrypts imported keystores on a worker thread, one import at a time, within the KDF limits. */
  decryptor: KeystoreDecryptor;
  /** The key cache, kept in step with imports and deletions (absent with --no-key-cache). */
  keyCache?: Pick<KeyCacheUpdater, "add" | "remove">;
}

/**
 * Keystores one import request may carry: each costs up to a second of KDF at the default limits, so
 * a request of 1,000 answers within minutes; larger sets go in several requests.
 */
export const MAX_IMPORT_KEYSTORES = 1000;

export class ImportTooLargeError extends AppError<{ code: "ERR_KEYMANAGER_TOO_MANY_KEYSTORES"; max: number }> {}

interface Decrypted {
  pubkey: Uint8Array;
  secret: Uint8Array;
  json: string;
  password: string;
}

/**
 * The standard keymanager API over our key set. Changes to the key set run one at a time. An import
 * decrypts its keystores first, on the decryptor's worker thread and outside that queue, so a slow
 * import never holds up a DELETE (nor signing); only its short apply step (files, protection, pool)
 * queues. DELETE first makes the key unable to sign (disabled in the database, which waits for
 * decisions in flight; removed from the pool) and only then exports its slashing-protection data.
 */
export class Keymanager {
  private queue: Promise<unknown> = Promise.resolve();
  private listAnswer: { version: number; json: Buffer } | null = null;

  constructor(private readonly m: KeymanagerModules) {}

  list(): { validating_pubkey: string; derivation_path: string; readonly: boolean }[] {
    return this.m.signer
      .listKeys()
      .map((k) => ({ validating_pubkey: k.pubkeyHex, derivation_path: "", readonly: k.file === null }));
  }

  /** `{"data": list()}` as JSON bytes, built once per key-set version (15 MB at 100,000 keys). */
  listJson(): Buffer {
    const v = this.m.signer.version;
    if (this.listAnswer?.version !== v) {
      // 0x-hex needs no escaping: concatenated, not stringified object by object
      const items = this.m.signer
        .listKeys()
        .map((k) => `{"validating_pubkey":"${k.pubkeyHex}","derivation_path":"","readonly":${k.file === null}}`);
      this.listAnswer = { version: v, json: Buffer.from(`{"data":[${items.join(",")}]}`, "utf8") };
    }
    return this.listAnswer.json;
  }

  async import(keystores: unknown[], passwords: unknown[], slashingProtection?: string): Promise<ImportStatus[]> {
    if (keystores.length !== passwords.length)
      throw new BadRequestError("keystores and passwords differ in length", "passwords");
    if (keystores.length > MAX_IMPORT_KEYSTORES)
      throw new ImportTooLargeError(
        { code: "ERR_KEYMANAGER_TOO_MANY_KEYSTORES", max: MAX_IMPORT_KEYSTORES },
        `at most ${MAX_IMPORT_KEYSTORES} keystores per import request`,
      );
    const decrypted = await this.decrypt(keystores, passwords);
    return this.serial(() => this.apply(decrypted, slashingProtection));
  }

  delete(pubkeys: string[]): Promise<{ data: DeleteStatus[]; slashing_protection: string }> {
    return this.serial(() => this.doDelete(pubkeys));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Structure and KDF limits checked here (cheap, typed per keystore); the KDF runs on the worker. */
  private async decrypt(keystores: unknown[], passwords: unknown[]): Promise<(Decrypted | ImportStatus)[]> {
    const out: (Decrypted | ImportStatus | null)[] = [];
    const todo: { i: number; json: string; password: string }[] = [];
    for (let i = 0; i < keystores.length; i++) {
      try {
        const json = keystores[i];
        const password = passwords[i];
        if (typeof json !== "string" || typeof password !== "string")
          throw new BadRequestError("keystore and password must be strings");
        kdfParams(parseKeystore(JSON.parse(json)), this.m.decryptor.limits);
        todo.push({ i, json, password });
        out.push(null);
      } catch (e) {
        out.push(failed(e));
      }
    }
    const keys = await this.m.decryptor.decryptAll(todo);
    keys.forEach((k, j) => {
      const { i, json, password } = todo[j]!;
      out[i] = k instanceof Error ? failed(k) : { ...k, json, password };
    });
    return out as (Decrypted | ImportStatus)[];
  }

  private async apply(decrypted: (Decrypted | ImportStatus)[], slashingProtection?: string): Promise<ImportStatus[]> {
    const seen = new Set<string>();
    const items = decrypted.map((d): Decrypted | ImportStatus => {
      if (!("secret" in d)) return d;
      const hex = toHex(d.pubkey);
      const dup = this.m.signer.getKey(hex) !== undefined || seen.has(hex);
      seen.add(hex);
      return dup ? { status: "duplicate" } : d;
    });
    const fresh = items.filter((d): d is Decrypted => "secret" in d);
    // Slashing protection first, only for the keys being imported; a bad file fails the whole request (400).
    if (slashingProtection !== undefined && slashingProtection.length > 0 && fresh.length > 0) {
      await importInterchange(this.m.store, [slashingProtection], this.m.network.genesisValidatorsRoot, {
        onlyPubkeys: new Set(fresh.map((f) => toHex(f.pubkey))),
      });
    }
    mkdirSync(this.m.keystoresDir, { recursive: true });
    const out: ImportStatus[] = [];
    const cached: AddedKeystore[] = [];
    for (const d of items) {
      if (!("secret" in d)) {
        out.push(d);
        continue;
      }
      try {
        const file = this.writeKeystore(toHex(d.pubkey), d.json, d.password);
        await this.m.protection.setEnabled([d.pubkey], true);
        // the pool zeroes the secret it is handed: the cache gets a copy
        if (this.m.keyCache !== undefined)
          cached.push({
            file,
            bytes: Buffer.from(d.json, "utf8"),
            password: d.password,
            pubkey: d.pubkey,
            secret: new Uint8Array(d.secret),
          });
        await this.m.signer.addKeys([{ pubkey: d.pubkey, secret: d.secret, file }]);
        this.m.onKeysActivated?.([toHex(d.pubkey)]);
        this.m.logger.info("Key imported through the keymanager API", { pubkey: toHex(d.pubkey) });
        out.push({ status: "imported" });
      } catch (e) {
        out.push({ status: "error", message: errorMessage(e) });
      }
    }
    await this.updateCache(() => this.m.keyCache?.add(cached));
    for (const c of cached) c.secret.fill(0);
    this.warmAnswers();
    return out;
  }

  /** Builds the list answers now, after a change, rather than in the next client's request. */
  warmAnswers(): void {
    this.listJson();
    this.m.signer.publicKeysJson();
  }

  /** The cache is a speed-up: failing to update it costs a warning (a restart decrypts what it lacks). */
  private async updateCache(fn: () => Promise<void> | undefined): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.m.logger.warn("Key cache not updated", {}, e);
    }
  }

  private writeKeystore(pubkeyHex: string, json: string, password: string): string {
    const base = join(this.m.keystoresDir, `keystore-${pubkeyHex.slice(2, 18)}-${randomUUID().slice(0, 8)}`);
    // password first: a keystore without its password would fail to load after a restart
    writeFileDurable(`${base}.txt`, password);
    writeFileDurable(`${base}.json`, json);
    return `${base}.json`;
  }

  private async doDelete(pubkeys: string[]): Promise<{ data: DeleteStatus[]; slashing_protection: string }> {
    const data: DeleteStatus[] = [];
    const removedFiles: string[] = [];
    const exportKeys: Uint8Array[] = [];
    const known = await this.m.store.tx((tx) => ethValidatorsRepository.list(tx), { readOnly: true });
    const inDb = new Set(known.map((v) => toHex(v.pubkey)));
    for (const raw of pubkeys) {
      const hex = typeof raw === "string" ? raw.toLowerCase() : "";
      if (!/^0x[0-9a-f]{96}$/.test(hex)) {
        data.push({ status: "error", message: "not a 0x-hex BLS public key" });
        continue;
      }
      const bytes = new Uint8Array(Buffer.from(hex.slice(2), "hex"));
      const key = this.m.signer.getKey(hex);
      try {
        if (key !== undefined) {
          // 1. the key can no longer sign: disabled in the store (waits for in-flight decisions), then out of the pool
          await this.m.protection.setEnabled([bytes], false);
          this.m.signer.removeKey(hex);
          this.m.onKeysRemoved?.([hex]);
          if (key.file !== null) removedFiles.push(key.file);
          this.m.logger.info("Key deleted through the keymanager API", { pubkey: hex });
          data.push({ status: "deleted" });
          exportKeys.push(bytes);
        } else if (inDb.has(hex)) {
          data.push({ status: "not_active" });
          exportKeys.push(bytes);
        } else {
          data.push({ status: "not_found" });
        }
      } catch (e) {
        data.push({ status: "error", message: errorMessage(e) });
      }
    }
    // 2. out of the key cache (that needs the passwords still on disk), then the files
    await this.updateCache(() => this.m.keyCache?.remove(removedFiles));
    for (const f of removedFiles) {
      rmSync(f, { force: true });
      rmSync(f.replace(/\.json$/, ".txt"), { force: true });
    }
    this.warmAnswers();
    // 3. only then export what protects those keys
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    });
    await exportInterchange(this.m.store, sink, this.m.network.genesisValidatorsRoot, exportKeys);
    return { data, slashing_protection: Buffer.concat(chunks).toString("utf8") };
  }
}

/** A keystore's error status; the message starts with its code (the API has no field for it). */
function failed(e: unknown): ImportStatus {
  return { status: "error", message: isAppError(e) ? `${e.code}: ${e.message}` : errorMessage(e) };
}
