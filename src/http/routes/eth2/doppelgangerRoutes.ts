import type { FastifyInstance } from "fastify";
import type { DoppelgangerKeyStatus } from "../../../detect/doppelganger/doppelgangerTypes.js";
import { normalizePubkey } from "../../../signer/ethereum/ethSigner.js";
import { BadRequestError } from "../../../util/errors.js";
import { bearerAuth } from "../../plugins/bearerAuth.js";

/** Where the status comes from: the guard, or the signer's key list when the guard is off. */
export interface DoppelgangerStatusSource {
  statuses(): DoppelgangerKeyStatus[];
  clear(pubkey: string, by: string): Promise<DoppelgangerKeyStatus>;
}

export interface DoppelgangerRoutesOptions {
  source: DoppelgangerStatusSource;
  /** The keymanager bearer token: clearing a detection is a key-management act. */
  token: string;
}

/** Wire form of one key (the dashboard shows exactly this). Epochs and indices are decimal strings. */
export interface DoppelgangerKeyView {
  pubkey: string;
  index: string | null;
  status: string;
  checked_epochs: number;
  remaining_epochs: number;
  since_epoch: string | null;
  detail: string;
}

export function doppelgangerView(s: DoppelgangerKeyStatus): DoppelgangerKeyView {
  return {
    pubkey: s.pubkey,
    index: s.index === null ? null : String(s.index),
    status: s.status,
    checked_epochs: s.checkedEpochs,
    remaining_epochs: s.remainingEpochs,
    since_epoch: s.sinceEpoch === null ? null : String(s.sinceEpoch),
    detail: s.detail,
  };
}

const BY_RE = /^[\p{L}\p{N} @._:-]{1,100}$/u;

/**
 * `GET /api/v1/eth2/doppelganger`: every key's doppelganger status (public, like the key list).
 * `POST /api/v1/eth2/doppelganger/{pubkey}/clear` (keymanager bearer token): an operator who made
 * sure no other signer uses the key lets it be checked again; body `{"by": "who"}` is recorded.
 */
export async function doppelgangerRoutes(app: FastifyInstance, opts: DoppelgangerRoutesOptions): Promise<void> {
  app.get("/api/v1/eth2/doppelganger", async () => ({
    data: opts.source
      .statuses()
      .sort((a, b) => (a.pubkey < b.pubkey ? -1 : 1))
      .map(doppelgangerView),
  }));

  await app.register(async (secured) => {
    secured.addHook("onRequest", bearerAuth(opts.token));
    secured.post<{ Params: { pubkey: string } }>("/api/v1/eth2/doppelganger/:pubkey/clear", async (req) => {
      const pubkey = normalizePubkey(req.params.pubkey);
      if (!/^0x[0-9a-f]{96}$/.test(pubkey))
        throw new BadRequestError("pubkey must be a 0x-hex BLS public key", "pubkey");
      const by = (req.body as { by?: unknown } | null)?.by ?? "keymanager token";
      if (typeof by !== "string" || !BY_RE.test(by))
        throw new BadRequestError("by must name who clears (letters, digits, spaces, @._:-; up to 100)", "by");
      return { data: doppelgangerView(await opts.source.clear(pubkey, by)) };
    });
  });
}
