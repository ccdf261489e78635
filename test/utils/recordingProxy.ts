import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a validator client sent through the proxy, and what the signer answered. */
export interface Exchange {
  arrivedAt: number;
  pubkey: string;
  body: Record<string, any>;
  status: number;
  /** The signature released to the client (200 answers only). */
  signature: string | null;
}

/**
 * An HTTP proxy between a validator client and a signer that records every signing exchange, so a
 * test can check what was actually released (not what a signer says it did).
 */
export class RecordingProxy {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly exchanges: Exchange[],
  ) {}

  static async start(target: () => string): Promise<RecordingProxy> {
    const exchanges: Exchange[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const arrivedAt = Date.now();
        const raw = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
        fetch(`${target()}${req.url}`, {
          method: req.method ?? "GET",
          headers,
          ...(raw.length > 0 ? { body: raw } : {}),
        })
          .then(async (r) => {
            const text = await r.text();
            const m = /^\/api\/v1\/eth2\/sign\/(0x[0-9a-fA-F]+)$/.exec(req.url ?? "");
            if (m !== null) {
              let signature: string | null = null;
              if (r.status === 200) signature = (JSON.parse(text) as { signature: string }).signature;
              exchanges.push({
                arrivedAt,
                pubkey: m[1]!.toLowerCase(),
                body: JSON.parse(raw.toString()),
                status: r.status,
                signature,
              });
            }
            res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
            res.end(text);
          })
          .catch(() => {
            const m = /^\/api\/v1\/eth2\/sign\/(0x[0-9a-fA-F]+)$/.exec(req.url ?? "");
            if (m !== null)
              exchanges.push({
                arrivedAt,
                pubkey: m[1]!.toLowerCase(),
                body: JSON.parse(raw.toString()),
                status: 502,
                signature: null,
              });
            res.writeHead(502, { "content-type": "application/json" });
            res.end(JSON.stringify({ code: "ERR_PROXY_UPSTREAM", message: "signer unreachable" }));
          });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return new RecordingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exchanges);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

interface Released {
  pubkey: string;
  root: string;
  kind: "block" | "attestation";
  slot?: bigint;
  source?: bigint;
  target?: bigint;
}

/** Block and attestation signatures that were released (answered 200), with what protection decides on. */
export function releasedProtected(exchanges: readonly Exchange[]): Released[] {
  const out: Released[] = [];
  for (const e of exchanges) {
    if (e.status !== 200) continue;
    const type = String(e.body.type).toUpperCase();
    const root = String(e.body.signingRoot ?? e.body.signing_root).toLowerCase();
    if (type === "BLOCK_V2" || type === "BLOCK") {
      const bb = e.body.beacon_block ?? {};
      const slot = bb.block_header?.slot ?? bb.block?.slot ?? e.body.block?.slot;
      out.push({ pubkey: e.pubkey, root, kind: "block", slot: BigInt(slot) });
    } else if (type === "ATTESTATION") {
      const a = e.body.attestation;
      out.push({
        pubkey: e.pubkey,
        root,
        kind: "attestation",
        source: BigInt(a.source.epoch),
        target: BigInt(a.target.epoch),
      });
    }
  }
  return out;
}

/** Every pair of released messages of one key that a slasher would punish (EIP-3076 / the spec's conditions). */
export function slashablePairs(released: readonly Released[]): [Released, Released][] {
  const pairs: [Released, Released][] = [];
  for (let i = 0; i < released.length; i++) {
    for (let j = i + 1; j < released.length; j++) {
      const a = released[i]!;
      const b = released[j]!;
      if (a.pubkey !== b.pubkey || a.kind !== b.kind || a.root === b.root) continue;
      if (a.kind === "block" && a.slot === b.slot) pairs.push([a, b]);
      if (a.kind === "attestation") {
        const double = a.target === b.target;
        const surround =
          (a.source! < b.source! && b.target! < a.target!) || (b.source! < a.source! && a.target! < b.target!);
        if (double || surround) pairs.push([a, b]);
      }
    }
  }
  return pairs;
}
