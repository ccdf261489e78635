import { bool, num, textOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

/** One host reporting one Ethereum key, with how its validator client signs (from the agent's facts). */
export interface EthKeyHostRow {
  pubkey: string;
  ownerId: number;
  hostId: number;
  hostName: string;
  active: boolean;
  /** "local": the host's client holds the secret key; "remote": it asks a remote signer. */
  source: string;
  signerUrl: string | null;
}

/** The fleet's view of Ethereum keys, for the foreign-signer check (peer data). */
export const ethKeyHostsRepository = {
  async present(tx: SqlTx): Promise<EthKeyHostRow[]> {
    const rows = await tx.all(
      `SELECT k.pubkey, k.owner_id, k.host_id, h.name AS host_name, k.active, k.present, k.facts
       FROM fleet_host_keys k JOIN fleet_hosts h ON h.id = k.host_id WHERE k.chain = $1 AND k.present = $2`,
      ["ethereum", true],
    );
    return rows
      .filter((r) => bool(r.present))
      .map((r) => {
        let facts: { source?: unknown; signer_url?: unknown } = {};
        try {
          facts = JSON.parse(String(r.facts)) as typeof facts;
        } catch {
          // facts were validated at ingestion; an unreadable row counts as a local key (the cautious reading)
        }
        return {
          pubkey: String(r.pubkey).toLowerCase(),
          ownerId: num(r.owner_id),
          hostId: num(r.host_id),
          hostName: String(r.host_name),
          active: bool(r.active),
          source: facts.source === "remote" ? "remote" : "local",
          signerUrl: textOrNull(facts.signer_url),
        };
      });
  },
};
