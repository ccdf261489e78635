import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { AlertService } from "../../../alerts/index.js";
import { toAlertView } from "../../../alerts/index.js";
import type { FleetQueries, TokenService } from "../../../fleet/index.js";
import { signaturesOf } from "../../../fleet/index.js";
import { PubkeyParams } from "../../../schemas/common.js";
import { Timeline, TimelineQuery } from "../../../schemas/timeline.js";
import type { Store } from "../../../store/types.js";
import { BadRequestError } from "../../../util/errors.js";
import { parseU64 } from "../../../util/u64.js";
import { typed } from "../../typed.js";
import { authHook, authOf, READERS, roles, scopeOf } from "./auth.js";
import { optTime, parseLimit } from "./params.js";
import { historyView } from "./views.js";

export interface TimelineRouteServices {
  tokens: TokenService;
  queries: FleetQueries;
  alerts: AlertService;
  /** The store the signing records are read from (the monitor's own; the signer's when they share it). */
  store: Store;
  /**
   * The fleet owner of the signer whose records are in `store` (`monitor.ethereum.owner`; "demo" under
   * `up`). Only it and admins see signing records; unset: admins only.
   */
  signingOwner?: string | undefined;
  now(): number;
}

/** Ethereum BLS public keys are 48 bytes. */
const ETH_PUBKEY_RE = /^0x[0-9a-f]{96}$/;
const DEFAULT_EPOCHS = 64;
const MAX_EPOCHS = 1024;
/** Mainnet preset; the minimal preset (dev chains) has 8, Gnosis 16. */
const DEFAULT_SLOTS_PER_EPOCH = 32;

/**
 * `GET /api/v1/keys/{pubkey}/timeline`: one key's story for the dashboard — which host held it in
 * which state when (fleet history), how many signatures the signer recorded per epoch (Ethereum
 * slashing-protection records in this store), and its alerts. Owner-scoped like every monitor read:
 * signing records belong to the signer's owner (an admin sees all). Reporting a key does not make its
 * records yours: public keys are public, so any owner's agent could report any key (issue 15).
 */
export async function timelineRoutes(app: FastifyInstance, s: TimelineRouteServices): Promise<void> {
  await app.register(
    async (plugin) => {
      const api = typed(plugin);
      api.addHook("onRequest", authHook(s.tokens));
      const schema = {
        params: PubkeyParams,
        querystring: TimelineQuery,
        response: { 200: Type.Object({ data: Timeline }) },
      };
      api.get("/keys/:pubkey/timeline", { preValidation: roles(READERS), schema }, async (req) => {
        const a = authOf(req);
        const pubkey = req.params.pubkey.toLowerCase();
        const q = req.query;
        const to = optTime(q.to, "to") ?? s.now();
        const from = optTime(q.from, "from") ?? 0;
        if (from > to) throw new BadRequestError("from must not be after to", "from");
        const epochs = parseLimit(q.epochs, DEFAULT_EPOCHS, MAX_EPOCHS);
        const slotsPerEpoch = parseLimit(q.slots_per_epoch, DEFAULT_SLOTS_PER_EPOCH, 1024);
        const toEpoch = q.to_epoch === undefined ? null : parseU64(q.to_epoch, "to_epoch");
        const owner = scopeOf(a);

        const intervals = await s.queries.history(owner, pubkey, from, to);
        const alerts = await s.alerts.list({ ownerId: owner, pubkey, limit: 1000 });
        // The chains the caller's fleet has this key on (one row per host; a key is on few hosts).
        const chains = new Set(
          (await s.queries.keys({ ownerId: owner, prefix: pubkey, limit: 1000 }))
            .filter((k) => k.pubkey === pubkey)
            .map((k) => k.chain),
        );
        const signatures = await signaturesOf(s.store, pubkey, {
          ethereumKey: ETH_PUBKEY_RE.test(pubkey) && (chains.size === 0 || chains.has("ethereum")),
          held: owner === null || (s.signingOwner !== undefined && a.ownerName === s.signingOwner),
          epochs,
          slotsPerEpoch: BigInt(slotsPerEpoch),
          toEpoch,
        });
        return {
          data: {
            pubkey,
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            intervals: intervals.map(historyView),
            alerts: alerts.map(toAlertView),
            signatures,
          },
        };
      });
    },
    { prefix: "/api/v1" },
  );
}
