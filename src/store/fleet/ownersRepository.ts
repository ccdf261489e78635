import { num, numOrNull, textOrNull } from "../sqlValues.js";
import type { SqlTx } from "../types.js";

export type TokenRole = "agent" | "operator" | "admin";

export interface TokenRow {
  tokenId: number;
  ownerId: number;
  ownerName: string;
  role: TokenRole;
  label: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/** Owners and their tokens; a token is only ever stored as its SHA-256. */
export const ownersRepository = {
  async upsertOwner(tx: SqlTx, name: string, now: number): Promise<number> {
    const rows = await tx.all<{ id: unknown }>(
      `INSERT INTO fleet_owners (name, created_at) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`,
      [name, now],
    );
    return num(rows[0]!.id);
  },

  async findOwner(tx: SqlTx, name: string): Promise<number | null> {
    const rows = await tx.all<{ id: unknown }>("SELECT id FROM fleet_owners WHERE name = $1", [name]);
    return rows.length === 0 ? null : num(rows[0]!.id);
  },

  async insertToken(
    tx: SqlTx,
    t: { ownerId: number; role: TokenRole; hash: Uint8Array; label: string | null; now: number },
  ): Promise<number> {
    const rows = await tx.all<{ id: unknown }>(
      "INSERT INTO fleet_tokens (owner_id, role, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
      [t.ownerId, t.role, t.hash, t.label, t.now],
    );
    return num(rows[0]!.id);
  },

  async findToken(tx: SqlTx, hash: Uint8Array): Promise<TokenRow | null> {
    const rows = await tx.all(
      `SELECT t.id, t.owner_id, o.name, t.role, t.label, t.created_at, t.revoked_at
       FROM fleet_tokens t JOIN fleet_owners o ON o.id = t.owner_id WHERE t.token_hash = $1`,
      [hash],
    );
    return rows.length === 0 ? null : toToken(rows[0]!);
  },

  async listTokens(tx: SqlTx): Promise<TokenRow[]> {
    const rows = await tx.all(
      `SELECT t.id, t.owner_id, o.name, t.role, t.label, t.created_at, t.revoked_at
       FROM fleet_tokens t JOIN fleet_owners o ON o.id = t.owner_id ORDER BY t.id`,
    );
    return rows.map(toToken);
  },

  async revokeToken(tx: SqlTx, id: number, now: number): Promise<boolean> {
    return (
      (await tx.run("UPDATE fleet_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [id, now])) > 0
    );
  },
};

function toToken(r: Record<string, unknown>): TokenRow {
  return {
    tokenId: num(r.id),
    ownerId: num(r.owner_id),
    ownerName: String(r.name),
    role: String(r.role) as TokenRole,
    label: textOrNull(r.label),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}
