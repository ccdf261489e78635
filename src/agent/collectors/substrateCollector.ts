import { readdir } from "node:fs/promises";
import {
  type KeystoreEntry,
  keystoreEntryFromFileName,
  parseNodeRoles,
  parseRpcBool,
  type SubstrateKeyFactsWire,
} from "../../chains/substrate/index.js";
import type { KeyWire } from "../../fleet/index.js";
import type { HttpClient } from "../../util/httpClient.js";
import { stripUserInfo as redact } from "../../util/redact.js";
import { nodeClient } from "../nodeClient.js";
import { type Collected, type Collector, errorText } from "./collector.js";

export interface SubstrateCollectorOptions {
  rpcUrl: string;
  /** Keystore directory: keys from file names (key type + public key); no file is opened. */
  keystore?: string;
  /** The session keys (author_rotateKeys output) to confirm with author_hasSessionKeys. */
  sessionKeys?: string;
  timeoutMs: number;
}

/** Substrate: system_nodeRoles (Authority?) and, per keystore key, author_hasKey / author_hasSessionKeys. */
export class SubstrateCollector implements Collector {
  readonly id: string;
  private readonly http: HttpClient;

  constructor(private readonly opts: SubstrateCollectorOptions) {
    this.id = `substrate:${redact(opts.rpcUrl)}`;
    this.http = nodeClient(opts.timeoutMs);
  }

  async collect(): Promise<Collected> {
    let entries: KeystoreEntry[] = [];
    let dirError: string | null = null;
    if (this.opts.keystore !== undefined) {
      try {
        entries = (await readdir(this.opts.keystore))
          .map(keystoreEntryFromFileName)
          .filter((k): k is KeystoreEntry => k !== null);
      } catch (e) {
        dirError = `keystore: ${errorText(e)}`;
      }
    }
    const key = (e: KeystoreEntry, facts: SubstrateKeyFactsWire): KeyWire => ({
      chain: "substrate",
      pubkey: e.pubkey,
      key_type: e.keyType,
      source: this.id,
      facts,
    });
    const call = (method: string, params: unknown[]) => this.http.jsonRpc(this.opts.rpcUrl, method, params);
    try {
      const roles = parseNodeRoles(await call("system_nodeRoles", []));
      const authority = roles.includes("Authority");
      const session =
        this.opts.sessionKeys === undefined
          ? null
          : parseRpcBool(await call("author_hasSessionKeys", [this.opts.sessionKeys]), "author_hasSessionKeys");
      const keys: KeyWire[] = [];
      for (const e of entries) {
        const has = parseRpcBool(await call("author_hasKey", [e.pubkey, e.keyType]), "author_hasKey");
        keys.push(key(e, { key_type: e.keyType, authority, has_key: has, session_keys: session }));
      }
      return {
        source: {
          id: this.id,
          chain: "substrate",
          reachable: true,
          error: dirError,
          info: { roles: roles.join(","), authority },
        },
        keys,
      };
    } catch (e) {
      return {
        source: { id: this.id, chain: "substrate", reachable: false, error: errorText(e) },
        keys: entries.map((en) =>
          key(en, { key_type: en.keyType, authority: null, has_key: null, session_keys: null }),
        ),
      };
    }
  }
}
