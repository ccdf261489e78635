import type { ValidatorState } from "../../chains/cometbft/index.js";
import { HttpClient, limitsFor, parseJsonBody } from "../../util/httpClient.js";
import { parseValidatorState } from "../node/stateFile.js";
import { PEER_AUTH_HEADER, PEER_NONCE_HEADER, PeerToken } from "./peerAuth.js";

export interface PeerConfig {
  id: string;
  /** Base URL of the peer's failover HTTP API. */
  url: string;
  /** A command that stops the peer's node and exits 0 only once it is stopped (e.g. over ssh); optional. */
  stopCommand?: string;
  /** The peer is on this host (loopback): its answers count without a token. */
  loopback?: boolean;
}

/** What this node needs from a peer's /status. */
export interface PeerView {
  nodeId: string;
  role: string;
  /** null when the peer cannot tell. */
  nodeRunning: boolean | null;
  /** A start is in progress (the node may come up any moment). */
  starting: boolean;
  key: string;
  /** Passive, healthy, and able to take over now. */
  ready: boolean;
  /**
   * The answer is authentic: signed with the shared peer token for our nonce, or from a loopback peer.
   * Only an authentic answer is ever safety evidence (that the old node stopped).
   */
  authenticated: boolean;
}

/** The other failover daemons of this validator, by node id. */
export interface Peers {
  get(id: string): PeerConfig | undefined;
  status(id: string): Promise<PeerView | null>;
  validatorState(id: string): Promise<ValidatorState | null>;
  firstReady(except: string): Promise<string | null>;
}

/** Largest peer answer read (a /status is a few kB). */
const MAX_PEER_ANSWER = 256 << 10;

/**
 * Talks to the other failover daemons (read-only: /status and /validator_state; the key never moves).
 * With a peer token every request carries a nonce and its HMAC, and an answer counts only when it is
 * signed for that nonce (peerAuth.ts); an unsigned or wrongly signed answer is no answer.
 */
export class PeerClient implements Peers {
  private readonly byId: Map<string, PeerConfig>;
  private readonly http: HttpClient;

  constructor(
    readonly peers: readonly PeerConfig[],
    timeoutMs: number,
    private readonly token: PeerToken | null = null,
  ) {
    this.byId = new Map(peers.map((p) => [p.id, p]));
    this.http = new HttpClient(limitsFor(timeoutMs, MAX_PEER_ANSWER));
  }

  get(id: string): PeerConfig | undefined {
    return this.byId.get(id);
  }

  /** The peer's view, or null when it does not answer, answers nonsense or fails authentication. */
  async status(id: string): Promise<PeerView | null> {
    const p = this.byId.get(id);
    if (p === undefined) return null;
    try {
      const { body, authenticated } = await this.getJson(p, "status");
      const o = body as Record<string, unknown>;
      const node = (o.node ?? {}) as Record<string, unknown>;
      if (o.node_id !== id || typeof o.role !== "string" || typeof o.ready !== "boolean") return null;
      return {
        nodeId: id,
        role: o.role,
        nodeRunning: typeof node.running === "boolean" ? node.running : null,
        // an older peer does not say: not starting only when it says so
        starting: node.starting !== false,
        key: typeof node.key === "string" ? node.key : "unknown",
        ready: o.ready,
        authenticated,
      };
    } catch {
      return null;
    }
  }

  /** The peer's priv_validator_state.json as its daemon reads it now, or null. */
  async validatorState(id: string): Promise<ValidatorState | null> {
    const p = this.byId.get(id);
    if (p === undefined) return null;
    try {
      const { body } = await this.getJson(p, "validator_state");
      // Used only to raise our state file (never lowers it): an unauthenticated answer can cost liveness
      // (a height too high), never safety; with a token configured it is authenticated anyway.
      return parseValidatorState(body, `peer ${id} /validator_state`);
    } catch {
      return null;
    }
  }

  /** The first peer (in config order) that says it is ready to take over. */
  async firstReady(except: string): Promise<string | null> {
    for (const p of this.peers) {
      if (p.id === except) continue;
      const v = await this.status(p.id);
      if (v?.ready) return p.id;
    }
    return null;
  }

  private async getJson(p: PeerConfig, path: string): Promise<{ body: unknown; authenticated: boolean }> {
    const url = `${p.url.replace(/\/+$/, "")}/${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    let nonce: string | null = null;
    if (this.token !== null) {
      nonce = PeerToken.nonce();
      headers[PEER_NONCE_HEADER] = nonce;
      headers[PEER_AUTH_HEADER] = this.token.requestMac("GET", `/${path}`, nonce);
    }
    const res = await this.http.request({ url, headers });
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
    if (this.token !== null && nonce !== null) {
      if (!this.token.verifyResponse(nonce, res.body, res.headers[PEER_AUTH_HEADER])) {
        throw new Error("peer answer not signed with the peer token");
      }
      return { body: parseJsonBody(res, url), authenticated: true };
    }
    return { body: parseJsonBody(res, url), authenticated: p.loopback === true };
  }
}
