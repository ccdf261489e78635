import { errorMessage } from "../util/errors.js";
import { parseValidatorState, type ValidatorState } from "./stateFile.js";

export interface PeerConfig {
  id: string;
  /** Base URL of the peer's failover HTTP API. */
  url: string;
  /** A command that stops the peer's node and exits 0 only once it is stopped (e.g. over ssh); optional. */
  stopCommand?: string;
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
}

/** The other failover daemons of this validator, by node id. */
export interface Peers {
  get(id: string): PeerConfig | undefined;
  status(id: string): Promise<PeerView | null>;
  validatorState(id: string): Promise<ValidatorState | null>;
  firstReady(except: string): Promise<string | null>;
}

/** Talks to the other failover daemons (read-only: /status and /validator_state; the key never moves). */
export class PeerClient implements Peers {
  private readonly byId: Map<string, PeerConfig>;

  constructor(
    readonly peers: readonly PeerConfig[],
    private readonly timeoutMs: number,
  ) {
    this.byId = new Map(peers.map((p) => [p.id, p]));
  }

  get(id: string): PeerConfig | undefined {
    return this.byId.get(id);
  }

  /** The peer's view, or null when it does not answer or answers nonsense. */
  async status(id: string): Promise<PeerView | null> {
    const p = this.byId.get(id);
    if (p === undefined) return null;
    try {
      const o = (await this.getJson(p, "status")) as Record<string, unknown>;
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
      return parseValidatorState(await this.getJson(p, "validator_state"), `peer ${id} /validator_state`);
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

  private async getJson(p: PeerConfig, path: string): Promise<unknown> {
    const res = await fetch(`${p.url.replace(/\/+$/, "")}/${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > 1 << 20) throw new Error("answer too large");
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`not JSON: ${errorMessage(e)}`);
    }
  }
}
