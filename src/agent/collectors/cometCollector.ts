import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import {
  type CometHomeKey,
  type CometKeyFactsWire,
  parseCometConfigToml,
  parseCometStatus,
  parsePrivValidatorKeyPublic,
} from "../../chains/cometbft/index.js";
import type { KeyWire } from "../../fleet/index.js";
import type { HttpClient } from "../../util/httpClient.js";
import { stripUserInfo as redact } from "../../util/redact.js";
import { nodeClient } from "../nodeClient.js";
import { type Collected, type Collector, errorText } from "./collector.js";

export interface CometCollectorOptions {
  rpcUrl?: string;
  /** Node home: config/config.toml (priv_validator_laddr) and the public half of priv_validator_key.json. */
  home?: string;
  timeoutMs: number;
}

/** CometBFT: /status (validator key, voting power, catching_up) and the home directory's key file. */
export class CometCollector implements Collector {
  readonly id: string;
  private readonly http: HttpClient;

  constructor(private readonly opts: CometCollectorOptions) {
    this.id = `cometbft:${opts.rpcUrl === undefined ? `home:${opts.home}` : redact(opts.rpcUrl)}`;
    this.http = nodeClient(opts.timeoutMs);
  }

  async collect(): Promise<Collected> {
    const errors: string[] = [];
    let fileKey: CometHomeKey | null = null;
    // Without a home directory the agent cannot see priv_validator_laddr: it assumes a local key.
    let localSigner = true;
    if (this.opts.home !== undefined) {
      try {
        const cfg = parseCometConfigToml(await readFile(join(this.opts.home, "config", "config.toml"), "utf8"));
        localSigner = cfg.privValidatorLaddr === "";
        const keyFile = isAbsolute(cfg.privValidatorKeyFile)
          ? cfg.privValidatorKeyFile
          : join(this.opts.home, cfg.privValidatorKeyFile);
        if (localSigner) fileKey = parsePrivValidatorKeyPublic(JSON.parse(await readFile(keyFile, "utf8")));
      } catch (e) {
        errors.push(`home: ${errorText(e)}`);
      }
    }
    const key = (pubkey: string, keyType: string, facts: CometKeyFactsWire): KeyWire => ({
      chain: "cometbft",
      pubkey,
      key_type: keyType,
      source: this.id,
      facts,
    });
    const fileOnly = (): KeyWire[] =>
      fileKey === null
        ? []
        : [
            key(fileKey.pubkey, fileKey.keyType, {
              node_key: false,
              file_key: true,
              local_signer: localSigner,
              voting_power: null,
              catching_up: null,
            }),
          ];
    if (this.opts.rpcUrl === undefined)
      return {
        source: { id: this.id, chain: "cometbft", reachable: errors.length === 0, error: errors.join("; ") || null },
        keys: fileOnly(),
      };
    try {
      const st = parseCometStatus(await this.http.getJson(`${this.opts.rpcUrl.replace(/\/+$/, "")}/status`));
      const keys: KeyWire[] = [];
      if (st.validator !== null) {
        keys.push(
          key(st.validator.pubkey, st.validator.keyType, {
            node_key: true,
            file_key: fileKey?.pubkey === st.validator.pubkey,
            local_signer: localSigner,
            voting_power: st.validator.votingPower.toString(),
            catching_up: st.catchingUp,
          }),
        );
      }
      if (fileKey !== null && fileKey.pubkey !== st.validator?.pubkey) keys.push(...fileOnly());
      return {
        source: {
          id: this.id,
          chain: "cometbft",
          reachable: true,
          error: errors.join("; ") || null,
          info: {
            network: st.network,
            node_version: st.nodeVersion,
            moniker: st.moniker,
            catching_up: st.catchingUp,
            latest_block_height: st.latestBlockHeight.toString(),
            local_signer: localSigner,
          },
        },
        keys,
      };
    } catch (e) {
      return { source: { id: this.id, chain: "cometbft", reachable: false, error: errorText(e) }, keys: fileOnly() };
    }
  }
}
