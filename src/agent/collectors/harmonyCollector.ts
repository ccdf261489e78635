import { readdir } from "node:fs/promises";
import type { HarmonyKeyFactsWire } from "../../chains/harmony/index.js";
import { blsKeyFromFileName, parseNodeMetadata } from "../../chains/harmony/index.js";
import type { KeyWire } from "../../fleet/index.js";
import type { HttpClient } from "../../util/httpClient.js";
import { stripUserInfo as redact } from "../../util/redact.js";
import { nodeClient } from "../nodeClient.js";
import { type Collected, type Collector, errorText } from "./collector.js";

export interface HarmonyCollectorOptions {
  rpcUrl?: string;
  /** BLS key directory: public keys from `<pubkey>.key/.pass/.bls` file names; no file is opened. */
  keysDir?: string;
  validatorAddress?: string;
  timeoutMs: number;
}

/** Harmony: hmyv2_getNodeMetadata (loaded keys, mode, is-backup, shard) and the key directory listing. */
export class HarmonyCollector implements Collector {
  readonly id: string;
  private readonly http: HttpClient;

  constructor(private readonly opts: HarmonyCollectorOptions) {
    this.id = `harmony:${opts.rpcUrl === undefined ? `dir:${opts.keysDir}` : redact(opts.rpcUrl)}`;
    this.http = nodeClient(opts.timeoutMs);
  }

  async collect(): Promise<Collected> {
    let dirKeys: string[] = [];
    let dirError: string | null = null;
    if (this.opts.keysDir !== undefined) {
      try {
        dirKeys = (await readdir(this.opts.keysDir)).map(blsKeyFromFileName).filter((k): k is string => k !== null);
      } catch (e) {
        dirError = `key directory: ${errorText(e)}`;
      }
    }
    const facts = (f: Omit<HarmonyKeyFactsWire, "validator_address">): HarmonyKeyFactsWire =>
      this.opts.validatorAddress === undefined ? f : { ...f, validator_address: this.opts.validatorAddress };
    const key = (pubkey: string, f: HarmonyKeyFactsWire): KeyWire => ({
      chain: "harmony",
      pubkey,
      key_type: "bls",
      source: this.id,
      facts: f,
    });
    if (this.opts.rpcUrl === undefined) {
      return {
        source: { id: this.id, chain: "harmony", reachable: dirError === null, error: dirError },
        keys: [...new Set(dirKeys)].map((k) =>
          key(k, facts({ loaded: false, mode: null, is_backup: null, shard_id: null })),
        ),
      };
    }
    try {
      const m = parseNodeMetadata({
        result: await this.http.jsonRpc(this.opts.rpcUrl, "hmyv2_getNodeMetadata", []),
      });
      const loaded = new Set(m.blsKeys);
      return {
        source: {
          id: this.id,
          chain: "harmony",
          reachable: true,
          error: dirError,
          info: {
            network: m.network,
            node_version: m.version.slice(0, 200),
            shard_id: m.shardId,
            mode: m.mode,
            is_backup: m.isBackup,
            is_leader: m.isLeader,
            role: m.role,
            peer_id: m.peerId,
            node_start_time: m.nodeStartTime,
            current_epoch: m.currentEpoch === null ? null : m.currentEpoch.toString(),
          },
        },
        keys: [...new Set([...m.blsKeys, ...dirKeys])].map((k) =>
          key(k, facts({ loaded: loaded.has(k), mode: m.mode, is_backup: m.isBackup, shard_id: m.shardId })),
        ),
      };
    } catch (e) {
      return {
        source: { id: this.id, chain: "harmony", reachable: false, error: errorText(e) },
        keys: [...new Set(dirKeys)].map((k) =>
          key(k, facts({ loaded: false, mode: null, is_backup: null, shard_id: null })),
        ),
      };
    }
  }
}
