import type { FastifyInstance } from "fastify";
import type { AlertService } from "../../../alerts/alertService.js";
import { toAlertView } from "../../../alerts/types.js";
import type { FleetQueries } from "../../../fleet/fleetQueries.js";
import type { TokenService } from "../../../fleet/tokens.js";
import { ethTimelineRepository } from "../../../store/ethereum/ethTimelineRepository.js";
import type { Store } from "../../../store/types.js";
import { BadRequestError } from "../../../util/errors.js";
import { parseHex } from "../../../util/hex.js";
import { maxBig, parseU64 } from "../../../util/u64.js";
import { authHook, READERS, requireRole, scopeOf } from "./auth.js";
import { historyView } from "./monitorRoutes.js";
import { optTime, parseLimit } from "./params.js";

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

const PUBKEY_RE = /^0x[0-9a-f]{64,132}$/;
/** Ethereum BLS public keys are 48 bytes. */
const ETH_PUBKEY_RE = /^0x[0-9a-f]{96}$/;
const DEFAULT_EPOCHS = 64;
const MAX_EPOCHS = 1024;
/** Mainnet preset; the minimal preset (dev chains) has 8, Gnosis 16. */
const DEFAULT_SLOTS_PER_EPOCH = 32;

interface SignaturesView {
  available: boolean;
  /** Why there is nothing to show (available false). */
  reason: string | null;
  slots_per_epoch: number;
  from_epoch: string | null;
  to_epoch: string | null;
  epochs: { epoch: string; attestations: number; blocks: number }[];
}

/**
 * `GET /api/v1/keys/{pubkey}/timeline`: one key's story for the dashboard — which host held it in
 * which state when (fleet history), how many signatures the signer recorded per epoch (Ethereum
 * slashing-protection records in this store), and its alerts. Owner-scoped like every monitor read:
 * signing records belong to the signer's owner (an admin sees all). Reporting a key does not make its
 * records yours: public keys are public, so any owner's agent could report any key (issue 15).
 */
export async function timelineRoutes(app: FastifyInstance, s: TimelineRouteServices): Promise<void> {
  await app.register(
    async (api) => {
      api.addHook("onRequest", authHook(s.tokens));
      api.get("/keys/:pubkey/timeline", async (req) => {
        const a = requireRole(req, READERS);
        const pubkey = String((req.params as { pubkey: string }).pubkey).toLowerCase();
        if (!PUBKEY_RE.test(pubkey)) throw new BadRequestError("pubkey must be 0x-hex", "pubkey");
        const q = req.query as Record<string, unknown>;
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

interface SignaturesQuery {
  /** Could be an Ethereum key: 48 bytes, and not reported only under other chains. */
  ethereumKey: boolean;
  /** The caller may see the records: an admin, or the owner of the signer that wrote them. */
  held: boolean;
  epochs: number;
  slotsPerEpoch: bigint;
  toEpoch: bigint | null;
}

async function signaturesOf(store: Store, pubkey: string, q: SignaturesQuery): Promise<SignaturesView> {
  const { epochs, slotsPerEpoch, toEpoch } = q;
  const none = (reason: string): SignaturesView => ({
    available: false,
    reason,
    slots_per_epoch: Number(slotsPerEpoch),
    from_epoch: null,
    to_epoch: null,
    epochs: [],
  });
  if (!q.ethereumKey) return none("Signatures per epoch are recorded for Ethereum keys only.");
  if (!q.held) return none("Signing records are shown to the signer's owner (monitor.ethereum.owner) only.");
  const key = parseHex(pubkey, "pubkey", 48);
  return store.tx(
    async (tx) => {
      const id = await ethTimelineRepository.validatorId(tx, key);
      if (id === null) return none("The signer using this store does not know this key.");
      const last = toEpoch ?? (await ethTimelineRepository.latestEpoch(tx, id, slotsPerEpoch));
      if (last === null) return none("The signer has recorded no signature for this key yet.");
      const first = maxBig(0n, last - BigInt(epochs - 1));
      const rows = await ethTimelineRepository.perEpoch(tx, id, first, last, slotsPerEpoch);
      return {
        available: true,
        reason: null,
        slots_per_epoch: Number(slotsPerEpoch),
        from_epoch: first.toString(),
        to_epoch: last.toString(),
        epochs: rows.map((r) => ({ epoch: r.epoch.toString(), attestations: r.attestations, blocks: r.blocks })),
      };
    },
    { readOnly: true },
  );
}
