import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { DoppelgangerKeyStatus } from "../../../detect/index.js";
import { DoppelgangerClearBody, DoppelgangerEntry } from "../../../schemas/eth2.js";
import { normalizePubkey } from "../../../signer/index.js";
import { BadRequestError } from "../../../util/errors.js";
import { bearerAuth } from "../../plugins/bearerAuth.js";
import { typed } from "../../typed.js";

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
export type DoppelgangerKeyView = DoppelgangerEntry;

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

/**
 * `GET /api/v1/eth2/doppelganger`: every key's doppelganger status (public, like the key list).
 * `POST /api/v1/eth2/doppelganger/{pubkey}/clear` (keymanager bearer token): an operator who made
 * sure no other signer uses the key lets it be checked again; body `{"by": "who"}` is recorded.
 */
export async function doppelgangerRoutes(app: FastifyInstance, opts: DoppelgangerRoutesOptions): Promise<void> {
  const api = typed(app);
  const list = { response: { 200: Type.Object({ data: Type.Array(DoppelgangerEntry) }) } };
  api.get("/api/v1/eth2/doppelganger", { schema: list }, async () => ({
    data: opts.source
      .statuses()
      .sort((a, b) => (a.pubkey < b.pubkey ? -1 : 1))
      .map(doppelgangerView),
  }));

  await api.register(async (plugin) => {
    const secured = typed(plugin);
    secured.addHook("onRequest", bearerAuth(opts.token));
    const clear = {
      params: Type.Object({ pubkey: Type.String({ maxLength: 200 }) }),
      body: DoppelgangerClearBody,
      response: { 200: Type.Object({ data: DoppelgangerEntry }) },
    };
    secured.post("/api/v1/eth2/doppelganger/:pubkey/clear", { schema: clear }, async (req) => {
      const pubkey = normalizePubkey(req.params.pubkey);
      if (!/^0x[0-9a-f]{96}$/.test(pubkey))
        throw new BadRequestError("pubkey must be a 0x-hex BLS public key", "pubkey");
      const by = req.body?.by ?? "keymanager token";
      return { data: doppelgangerView(await opts.source.clear(pubkey, by)) };
    });
  });
}
