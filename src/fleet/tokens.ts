import { createHash, randomBytes } from "node:crypto";
import type { Store } from "../store/index.js";
import { ownersRepository, type TokenRole, type TokenRow } from "../store/index.js";
import { BadRequestError } from "../util/errors.js";

/** Who a request acts for: the token's owner and role. Admin tokens see every owner. */
export interface AuthContext {
  tokenId: number;
  ownerId: number;
  ownerName: string;
  role: TokenRole;
}

export const TOKEN_ROLES: readonly TokenRole[] = ["agent", "operator", "admin"];
const TOKEN_PREFIX = "sgm_";
/** A revoked token stops working within this time on every monitor process (cache lifetime). */
export const TOKEN_CACHE_MS = 5000;
const CACHE_MAX = 10_000;

export function hashToken(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token, "utf8").digest());
}

/** Owner-scoped bearer tokens, stored only as SHA-256; lookups are cached briefly. */
export class TokenService {
  private readonly cache = new Map<string, { ctx: AuthContext | null; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the owner if needed and a token for it; the token is returned once and never stored. */
  async create(
    ownerName: string,
    role: TokenRole,
    label: string | null = null,
  ): Promise<{ token: string; id: number }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(ownerName))
      throw new BadRequestError("owner must be 1-64 characters of [A-Za-z0-9._@-]", "owner");
    if (!TOKEN_ROLES.includes(role)) throw new BadRequestError("role must be agent, operator or admin", "role");
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
    const id = await this.store.tx(async (tx) => {
      const ownerId = await ownersRepository.upsertOwner(tx, ownerName, this.now());
      return ownersRepository.insertToken(tx, { ownerId, role, hash: hashToken(token), label, now: this.now() });
    });
    return { token, id };
  }

  async list(): Promise<TokenRow[]> {
    return this.store.tx((tx) => ownersRepository.listTokens(tx), { readOnly: true });
  }

  async revoke(id: number): Promise<boolean> {
    const ok = await this.store.tx((tx) => ownersRepository.revokeToken(tx, id, this.now()));
    this.cache.clear();
    return ok;
  }

  /**
   * The context of a valid token, or null (unknown, revoked or malformed). A cached answer is used while
   * younger than `maxAgeMs` (open feeds re-check with a shorter age, so they end within the same bound).
   */
  async authenticate(token: string, maxAgeMs = TOKEN_CACHE_MS): Promise<AuthContext | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const key = Buffer.from(hashToken(token)).toString("hex");
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < Math.min(maxAgeMs, TOKEN_CACHE_MS)) return hit.ctx;
    const row = await this.store.tx((tx) => ownersRepository.findToken(tx, hashToken(token)), { readOnly: true });
    const ctx =
      row === null || row.revokedAt !== null
        ? null
        : { tokenId: row.tokenId, ownerId: row.ownerId, ownerName: row.ownerName, role: row.role };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(key, { ctx, at: now });
    return ctx;
  }
}
