import { readFile } from "node:fs/promises";
import { type KeymanagerKey, parseKeystoresList, parseRemoteKeysList } from "../../chains/ethereum/index.js";
import type { HttpClient } from "../../util/httpClient.js";
import { httpStatusOfError } from "../../util/httpErrors.js";
import { stripUserInfo as redact } from "../../util/redact.js";
import { nodeClient } from "../nodeClient.js";
import { type Collected, type Collector, errorText } from "./collector.js";

export interface EthCollectorOptions {
  url: string;
  /** The validator client's keymanager API token file (read at each poll: clients rotate it). */
  tokenFile: string;
  timeoutMs: number;
}

/** Ethereum: the standard keymanager API of any validator client (local keystores and remote keys). */
export class EthCollector implements Collector {
  readonly id: string;
  private readonly http: HttpClient;

  constructor(private readonly opts: EthCollectorOptions) {
    this.id = `ethereum:${redact(opts.url)}`;
    this.http = nodeClient(opts.timeoutMs);
  }

  async collect(): Promise<Collected> {
    try {
      const token = (await readFile(this.opts.tokenFile, "utf8")).trim();
      const base = this.opts.url.replace(/\/+$/, "");
      const get = (path: string) =>
        this.http.getJson(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const local = parseKeystoresList(await get("/eth/v1/keystores"));
      let remote: KeymanagerKey[] = [];
      try {
        remote = parseRemoteKeysList(await get("/eth/v1/remotekeys"));
      } catch (e) {
        // A client without the remote-keys API answers 404: it has no remote keys.
        if (httpStatusOfError(e) !== 404) throw e;
      }
      const seen = new Set<string>();
      const keys = [...local, ...remote]
        .filter((k) => !seen.has(k.pubkey) && seen.add(k.pubkey))
        .map((k) => ({
          chain: "ethereum" as const,
          pubkey: k.pubkey,
          key_type: "bls",
          source: this.id,
          facts: {
            source: k.source,
            signer_url: k.signerUrl === null ? null : redact(k.signerUrl),
            readonly: k.readonly,
          },
        }));
      return {
        source: {
          id: this.id,
          chain: "ethereum",
          reachable: true,
          error: null,
          info: { local_keys: local.length, remote_keys: remote.length },
        },
        keys,
      };
    } catch (e) {
      return { source: { id: this.id, chain: "ethereum", reachable: false, error: errorText(e) }, keys: [] };
    }
  }
}
