import { LockClass, lockKeys } from "../locks.js";
import type { SqlTx } from "../types.js";

export interface EthValidatorRow {
  id: number;
  pubkey: Uint8Array;
  enabled: boolean;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Validators (pubkey -> id, enabled) and the genesis binding of the database. */
export const ethValidatorsRepository = {
  async getGenesisRoot(tx: SqlTx): Promise<Uint8Array | null> {
    const [r] = await tx.all("SELECT genesis_validators_root FROM eth_metadata WHERE id = 1");
    return r ? new Uint8Array(r.genesis_validators_root as Buffer) : null;
  },

  /** Binds an unbound database; returns the root the database is bound to afterwards. */
  async bindGenesisRoot(tx: SqlTx, root: Uint8Array): Promise<Uint8Array> {
    await tx.run("INSERT INTO eth_metadata (id, genesis_validators_root) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [
      root,
    ]);
    return (await this.getGenesisRoot(tx)) ?? root;
  },

  /**
   * Insert-or-get ids for public keys. Inserts go in pubkey order so that two processes registering the
   * same large key set cannot deadlock on the unique index.
   */
  async upsert(tx: SqlTx, pubkeys: readonly Uint8Array[]): Promise<Map<string, number>> {
    const unique = [...new Map(pubkeys.map((p) => [hexOf(p), p])).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const out = new Map<string, number>();
    if (unique.length === 0) return out;
    if (tx.dialect === "postgres") {
      const keys = unique.map(([, p]) => p);
      await tx.run(
        "INSERT INTO eth_validators (pubkey) SELECT k FROM unnest($1::bytea[]) AS u(k) ORDER BY k ON CONFLICT (pubkey) DO NOTHING",
        [keys],
      );
      const rows = await tx.all("SELECT id, pubkey FROM eth_validators WHERE pubkey = ANY($1::bytea[])", [keys]);
      for (const r of rows) out.set(hexOf(r.pubkey as Buffer), Number(r.id));
      return out;
    }
    for (const [hex, p] of unique) {
      await tx.run("INSERT INTO eth_validators (pubkey) VALUES ($1) ON CONFLICT (pubkey) DO NOTHING", [p]);
      const [r] = await tx.all("SELECT id FROM eth_validators WHERE pubkey = $1", [p]);
      out.set(hex, Number(r!.id));
    }
    return out;
  },

  async list(tx: SqlTx, pubkeys?: readonly Uint8Array[]): Promise<EthValidatorRow[]> {
    const rows =
      pubkeys === undefined
        ? await tx.all("SELECT id, pubkey, enabled FROM eth_validators ORDER BY id")
        : tx.dialect === "postgres"
          ? await tx.all("SELECT id, pubkey, enabled FROM eth_validators WHERE pubkey = ANY($1::bytea[]) ORDER BY id", [
              [...pubkeys],
            ])
          : (
              await Promise.all(
                pubkeys.map((p) => tx.all("SELECT id, pubkey, enabled FROM eth_validators WHERE pubkey = $1", [p])),
              )
            ).flat();
    return rows.map((r) => ({
      id: Number(r.id),
      pubkey: new Uint8Array(r.pubkey as Buffer),
      enabled: Boolean(r.enabled),
    }));
  },

  /**
   * Enables or disables keys. On PostgreSQL it first takes both signing locks of each key, so a
   * decision already running finishes before the flag flips and none can start after it.
   */
  async setEnabled(tx: SqlTx, ids: readonly number[], enabled: boolean): Promise<void> {
    await lockKeys(
      tx,
      ids.flatMap((id) => [
        { cls: LockClass.EthBlock, id },
        { cls: LockClass.EthAttestation, id },
      ]),
    );
    if (tx.dialect === "postgres") {
      await tx.run("UPDATE eth_validators SET enabled = $1 WHERE id = ANY($2::int[])", [enabled, [...ids]]);
      return;
    }
    for (const id of ids) await tx.run("UPDATE eth_validators SET enabled = $1 WHERE id = $2", [enabled, id]);
  },
};
