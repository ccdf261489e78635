import { pgLiteral } from "./sqlLiteral.js";
import type { SqlTx } from "./types.js";

/**
 * PostgreSQL advisory lock key space: (class, id). Every process sharing a database must agree on it.
 * Class 0 holds global locks; every other class serialises one kind of signing decision per key id.
 */
export enum LockClass {
  Global = 0,
  EthBlock = 1,
  EthAttestation = 2,
  CometBft = 3,
  Substrate = 4,
  Failover = 5,
  /** Fleet monitor: one key's inventory across hosts (id = hash of owner, chain, key). */
  FleetKey = 16,
  /** Fleet monitor: one alert dedup key (id = hash of the key). */
  FleetAlert = 17,
  /** Message-bus outbox: one publisher at a time per database (id 0), so events leave in commit order. */
  EventOutbox = 19,
}

export enum GlobalLockId {
  /** Signing batches hold it shared; interchange imports hold it exclusively (no import races a decision). */
  Import = 0,
  Migrate = 1,
}

export interface LockKey {
  cls: LockClass;
  id: number;
}

/**
 * Each class's ids, sorted and distinct, classes ascending: every transaction takes its locks in this one
 * order, so two batches never deadlock. (Numbers only: it runs for every batch.)
 */
function sortLockKeys(keys: readonly LockKey[]): [LockClass, number[]][] {
  const byClass = new Map<LockClass, number[]>();
  for (const k of keys) {
    const ids = byClass.get(k.cls);
    if (ids === undefined) byClass.set(k.cls, [k.id]);
    else ids.push(k.id);
  }
  const out = [...byClass].sort(([a], [b]) => a - b);
  for (const entry of out) {
    const ids = entry[1].sort((a, b) => a - b);
    let n = 0;
    for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[n++] = ids[i]!;
    ids.length = n;
  }
  return out;
}

/**
 * The statements that take the shared import lock and then every key lock, in one sorted order, for
 * the current transaction (PostgreSQL; released at COMMIT or ROLLBACK): one statement per lock class,
 * each over one array constant. They carry no parameters, so a batch can send them together with BEGIN
 * (TxOptions.beginWith). SQLite needs nothing: BEGIN IMMEDIATE already admits one writer at a time.
 */
export function lockKeysStatement(dialect: SqlTx["dialect"], keys: readonly LockKey[]): string | undefined {
  if (dialect !== "postgres") return undefined;
  const out = [`SELECT pg_advisory_xact_lock_shared(${LockClass.Global}, ${GlobalLockId.Import})`];
  // classes ascending, ids ascending within a class (sortLockKeys, and ORDER BY on the server): the
  // global order of every caller
  for (const [cls, ids] of sortLockKeys(keys)) {
    out.push(
      `SELECT count(pg_advisory_xact_lock(${pgLiteral.int(cls)}, k.id)) FROM (SELECT id FROM unnest(${pgLiteral.intArray(ids)}) AS u(id) ORDER BY id) k`,
    );
  }
  return out.join("; ");
}

export async function lockKeys(tx: SqlTx, keys: readonly LockKey[]): Promise<void> {
  const sql = lockKeysStatement(tx.dialect, keys);
  if (sql !== undefined) await tx.all(sql);
}

/** Exclusive import lock: waits for every running decision batch, and holds new ones off until COMMIT. */
export async function lockForImport(tx: SqlTx): Promise<void> {
  if (tx.dialect !== "postgres") return;
  await tx.run("SELECT pg_advisory_xact_lock($1, $2)", [LockClass.Global, GlobalLockId.Import]);
}
