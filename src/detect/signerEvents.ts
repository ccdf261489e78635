import { BadRequestError } from "../util/errors.js";
import { shortKey } from "../util/logger.js";
import type { DetectedKey } from "./doppelganger/doppelgangerTypes.js";
import { dedupKey } from "./fleet/fleetRules.js";
import type { Detection, Severity } from "./types.js";

/** Alerts a signer raises through the monitor (in one process, or over `POST /api/v1/agent/events`). */
const SIGNER_EVENT_KINDS = [
  "doppelganger_detected",
  "doppelganger_check_failed",
  "db_not_failover_safe",
  "store_went_backwards",
] as const;
export type SignerEventKind = (typeof SIGNER_EVENT_KINDS)[number];

const SEVERITY: Record<SignerEventKind, Severity> = {
  doppelganger_detected: "critical",
  doppelganger_check_failed: "warning",
  // the slashing-protection database (docs/protection.md, "PostgreSQL high availability"): any chain
  db_not_failover_safe: "critical",
  store_went_backwards: "critical",
};

/** The doppelganger events are Ethereum's; the database events belong to the signer as a whole. */
const chainOf = (kind: SignerEventKind): string | null => (kind.startsWith("doppelganger_") ? "ethereum" : null);

/** Wire form (snake_case JSON). */
export interface SignerEvent {
  action: "raise" | "clear";
  kind: SignerEventKind;
  /** The key (doppelganger_detected); null for events about the signer as a whole. */
  pubkey: string | null;
  /** The signer instance that speaks (e.g. "signer@host:9000"). */
  source: string;
  confidence?: number;
  summary?: string;
  evidence?: Record<string, unknown>;
}

const MAX_EVENTS = 10_000;
const MAX_TEXT = 1000;
const MAX_EVIDENCE = 16_384;
const PUBKEY_RE = /^0x[0-9a-f]{96}$/;
const SOURCE_RE = /^[A-Za-z0-9@._:/[\]-]{1,200}$/;

/**
 * The identity of a signer event: a detection is one event per key whoever finds it (two signers on
 * one store report the same twin once); a failing check is one event per signer instance.
 */
export function signerEventDedupKey(
  kind: SignerEventKind,
  ownerId: number | null,
  pubkey: string | null,
  source: string,
): string {
  return dedupKey(kind, ownerId, chainOf(kind), pubkey, [], kind === "doppelganger_detected" ? "" : source);
}

/** Evidence member naming who opened a signer event's alert: only that source may clear it (issue 15). */
export const RAISED_BY = "raised_by";

/** The signer that raised an event: its self-declared source and the token it spoke with (null: in-process). */
export interface RaisedBy {
  source: string;
  token_id: number | null;
}

/** May `by` clear an alert whose evidence is `evidenceJson`? Only the source and token that opened it. */
export function mayClear(evidenceJson: string, by: RaisedBy): boolean {
  let ev: unknown;
  try {
    ev = JSON.parse(evidenceJson);
  } catch {
    return false;
  }
  const r = (ev as Record<string, unknown> | null)?.[RAISED_BY] as Partial<RaisedBy> | undefined;
  // an alert the monitor opened itself, or one from before raisers were recorded: an operator ends it
  if (typeof r !== "object" || r === null) return false;
  return r.source === by.source && r.token_id === by.token_id;
}

export function toDetection(e: SignerEvent, ownerId: number | null, raisedBy?: RaisedBy): Detection {
  return {
    kind: e.kind,
    severity: SEVERITY[e.kind],
    ownerId,
    chain: chainOf(e.kind),
    pubkey: e.pubkey,
    hosts: [],
    confidence: e.confidence ?? 1,
    evidence: { ...(e.evidence ?? {}), source: e.source, ...(raisedBy === undefined ? {} : { [RAISED_BY]: raisedBy }) },
    summary: e.summary ?? e.kind,
    dedupKey: signerEventDedupKey(e.kind, ownerId, e.pubkey, e.source),
  };
}

export function detectedEvent(k: DetectedKey, source: string): SignerEvent {
  return {
    action: "raise",
    kind: "doppelganger_detected",
    pubkey: k.pubkey,
    source,
    confidence: 1,
    summary: `Ethereum key ${shortKey(k.pubkey)} (validator ${k.index ?? "?"}) is live on the network while ${source} refuses to sign with it: another signer uses this key. The key is refused until an operator clears it.`,
    evidence: { index: k.index, epoch: String(k.epoch), beacon_node: k.node, detail: k.detail },
  };
}

export function checkFailedEvent(reason: string, waiting: number, source: string): SignerEvent {
  return {
    action: "raise",
    kind: "doppelganger_check_failed",
    pubkey: null,
    source,
    confidence: 1,
    summary: `Doppelganger check of ${source} cannot progress: ${reason}. ${waiting} key(s) stay unverified and refuse to sign.`,
    evidence: { reason, waiting },
  };
}

/** What the signer saw of its PostgreSQL replication (store/pgDurability.ts), for db_not_failover_safe. */
export interface DbSetupSeen {
  durability: string;
  setup: string;
  synchronousStandbyNames: string;
  standbys: number;
  syncStandbys: number;
}

export function dbNotFailoverSafeEvent(seen: DbSetupSeen, source: string): SignerEvent {
  const effect =
    seen.durability === "replicated"
      ? "--db-durability replicated finds no synchronous standby, so nothing is signed"
      : "a promotion of the standby can lose records of signatures already released (then double signing)";
  return {
    action: "raise",
    kind: "db_not_failover_safe",
    pubkey: null,
    source,
    confidence: 1,
    summary: `The slashing-protection database of ${source} is not failover-safe (${seen.setup}, ${seen.syncStandbys} of ${seen.standbys} standby(s) synchronous): ${effect}. Name the standby in synchronous_standby_names.`,
    evidence: {
      durability: seen.durability,
      setup: seen.setup,
      synchronous_standby_names: seen.synchronousStandbyNames,
      standbys: seen.standbys,
      sync_standbys: seen.syncStandbys,
    },
  };
}

/** Refusals because the store holds less than this signer released (ERR_*_STORE_BEHIND), per chain. */
export function storeWentBackwardsEvent(refusals: Record<string, number>, source: string): SignerEvent {
  const chains = Object.keys(refusals).sort();
  return {
    action: "raise",
    kind: "store_went_backwards",
    pubkey: null,
    source,
    confidence: 1,
    summary: `The slashing-protection database of ${source} went backwards (${chains.join(", ")}): it lost records of signatures this signer released, and the affected keys stopped signing. Restore the missing history before restarting the signer.`,
    evidence: { refusals },
  };
}

/** Parses `{"events":[…]}`; anything malformed is ERR_BAD_REQUEST naming the field. */
export function parseSignerEvents(body: unknown): SignerEvent[] {
  const events = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length > MAX_EVENTS)
    throw new BadRequestError(`events must be an array of at most ${MAX_EVENTS}`, "events");
  return events.map((v, i) => {
    const f = (name: string): string => `events[${i}].${name}`;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw new BadRequestError(`events[${i}] must be an object`, `events[${i}]`);
    const o = v as Record<string, unknown>;
    if (o.action !== "raise" && o.action !== "clear")
      throw new BadRequestError(`${f("action")} must be raise or clear`, f("action"));
    if (!(SIGNER_EVENT_KINDS as readonly unknown[]).includes(o.kind))
      throw new BadRequestError(`${f("kind")} must be one of ${SIGNER_EVENT_KINDS.join(", ")}`, f("kind"));
    const kind = o.kind as SignerEventKind;
    const pubkey = o.pubkey ?? null;
    if (pubkey !== null && (typeof pubkey !== "string" || !PUBKEY_RE.test(pubkey)))
      throw new BadRequestError(`${f("pubkey")} must be a lower-case 0x-hex BLS public key`, f("pubkey"));
    if ((kind === "doppelganger_detected") !== (pubkey !== null))
      throw new BadRequestError(`${f("pubkey")} is required for doppelganger_detected only`, f("pubkey"));
    if (typeof o.source !== "string" || !SOURCE_RE.test(o.source))
      throw new BadRequestError(`${f("source")} must name the signer`, f("source"));
    const e: SignerEvent = { action: o.action, kind, pubkey: pubkey as string | null, source: o.source };
    if (o.action === "clear") return e;
    const c = o.confidence;
    if (typeof c !== "number" || !(c >= 0 && c <= 1))
      throw new BadRequestError(`${f("confidence")} must be within [0, 1]`, f("confidence"));
    if (typeof o.summary !== "string" || o.summary.length === 0 || o.summary.length > MAX_TEXT)
      throw new BadRequestError(`${f("summary")} must be a text of at most ${MAX_TEXT} characters`, f("summary"));
    const ev = o.evidence ?? {};
    if (typeof ev !== "object" || ev === null || Array.isArray(ev) || JSON.stringify(ev).length > MAX_EVIDENCE)
      throw new BadRequestError(`${f("evidence")} must be an object of at most ${MAX_EVIDENCE} bytes`, f("evidence"));
    return { ...e, confidence: c, summary: o.summary, evidence: ev as Record<string, unknown> };
  });
}
