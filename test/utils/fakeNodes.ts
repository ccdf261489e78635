import { LoopbackServer, type Recorded, sendJson } from "./httpServer.js";
import { loadVector } from "./vectors.js";

/** A constructed hmyv2_getNodeMetadata answer from ../shared/vectors/harmony/. */
export function harmonyVector(name: string): { result: Record<string, unknown> } {
  return loadVector<{ result: Record<string, unknown> }>(`harmony/${name}.constructed.json`);
}

/** What a test using the Harmony vectors (and FakeHarmonyNode) needs; see skipWithoutVectors. */
export const HARMONY_NEEDS = { vectors: ["harmony"] };

export const HARMONY_VECTORS = {
  normal: "01-shard0-validator-normal",
  backup: "02-shard0-same-keys-backup-node",
  listening: "03-shard1-not-elected-listening",
  syncing: "04-shard0-syncing",
} as const;

/** Fake Harmony node: answers JSON-RPC hmyv2_getNodeMetadata (and hmy_/eth_ aliases) with a vector. */
export class FakeHarmonyNode extends LoopbackServer {
  metadata: { result: Record<string, unknown> };

  constructor(vector: string) {
    super((req, res) => this.answer(req, res));
    this.metadata = harmonyVector(vector);
  }

  private answer(req: Recorded, res: Parameters<typeof sendJson>[0]): void {
    const r = req.json as { id?: unknown; method?: unknown } | null;
    if (req.method !== "POST" || r === null) sendJson(res, 400, { error: "bad request" });
    else if (r.method === "hmyv2_getNodeMetadata" || r.method === "hmy_getNodeMetadata")
      sendJson(res, 200, { jsonrpc: "2.0", id: r.id, result: this.metadata.result });
    else
      sendJson(res, 200, {
        jsonrpc: "2.0",
        id: r.id,
        error: { code: -32601, message: "the method does not exist/is not available" },
      });
  }
}

/** Fake CometBFT RPC: GET /status in the node's JSON-RPC envelope (v0.38 field names). */
export class FakeCometNode extends LoopbackServer {
  status = {
    node_info: {
      network: "test-chain-1",
      version: "0.38.12",
      moniker: "val",
      id: "a".repeat(40),
      listen_addr: "tcp://0.0.0.0:26656",
    },
    sync_info: { latest_block_height: "1234", catching_up: false, latest_block_time: "2025-01-01T00:00:00Z" },
    validator_info: {
      address: "C0FFEE0000000000000000000000000000000001",
      pub_key: { type: "tendermint/PubKeyEd25519", value: Buffer.alloc(32, 7).toString("base64") },
      voting_power: "100",
    },
  };

  constructor() {
    super((req, res) => {
      if (req.method === "GET" && req.url.split("?")[0] === "/status")
        return sendJson(res, 200, { jsonrpc: "2.0", id: -1, result: this.status });
      sendJson(res, 404, { error: "not found" });
    });
  }
}

/** Fake validator client keymanager API (bearer token required, as the standard says). */
export class FakeKeymanager extends LoopbackServer {
  keystores: { validating_pubkey: string; derivation_path: string; readonly: boolean }[] = [];
  remotekeys: { pubkey: string; url: string; readonly: boolean }[] = [];

  constructor(readonly token: string) {
    super((req, res) => {
      if (req.headers.authorization !== `Bearer ${this.token}`)
        return sendJson(res, 401, { code: 401, message: "unauthorized" });
      if (req.method === "GET" && req.url === "/eth/v1/keystores") return sendJson(res, 200, { data: this.keystores });
      if (req.method === "GET" && req.url === "/eth/v1/remotekeys")
        return sendJson(res, 200, { data: this.remotekeys });
      sendJson(res, 404, { code: 404, message: "not found" });
    });
  }
}

/** Fake Substrate node JSON-RPC: system_nodeRoles, author_hasKey, author_hasSessionKeys. */
export class FakeSubstrateNode extends LoopbackServer {
  roles = ["Authority"];
  /** "keyType:0xpub" the node's keystore holds. */
  held = new Set<string>();
  sessionKeys: string | null = null;

  constructor() {
    super((req, res) => {
      const r = req.json as { id?: unknown; method?: string; params?: unknown[] } | null;
      if (r === null) return sendJson(res, 400, {});
      const ok = (result: unknown) => sendJson(res, 200, { jsonrpc: "2.0", id: r.id, result });
      if (r.method === "system_nodeRoles") return ok(this.roles);
      if (r.method === "author_hasKey") return ok(this.held.has(`${String(r.params?.[1])}:${String(r.params?.[0])}`));
      if (r.method === "author_hasSessionKeys")
        return ok(this.sessionKeys !== null && r.params?.[0] === this.sessionKeys);
      sendJson(res, 200, { jsonrpc: "2.0", id: r.id, error: { code: -32601, message: "Method not found" } });
    });
  }
}
