import type { FastifyInstance } from "fastify";
import { KeystoreDeleteBody, KeystoreImportBody } from "../../../schemas/eth2.js";
import type { Keymanager } from "../../../signer/index.js";
import { bearerAuth } from "../../plugins/bearerAuth.js";
import { typed } from "../../typed.js";

export interface KeymanagerRoutesOptions {
  keymanager: Keymanager;
  token: string;
}

/** Keymanager API `/eth/v1/keystores` (GET, POST, DELETE), behind a bearer token. */
export async function keymanagerRoutes(app: FastifyInstance, opts: KeymanagerRoutesOptions): Promise<void> {
  // onRequest: an unauthenticated request is refused before its (up to 64 MiB) body is read
  const api = typed(app);
  api.addHook("onRequest", bearerAuth(opts.token));

  api.get("/eth/v1/keystores", async (_req, reply) =>
    reply.type("application/json; charset=utf-8").send(opts.keymanager.listJson()),
  );

  // Imports carry many keystores and a slashing-protection history: a larger body than signing requests.
  api.post("/eth/v1/keystores", { bodyLimit: 64 << 20, schema: { body: KeystoreImportBody } }, async (req) => {
    // an authenticated import may decrypt for minutes without a byte on the wire: not an idle socket
    const socket = req.raw.socket as { setTimeout?: (ms: number) => void } | undefined;
    if (typeof socket?.setTimeout === "function") socket.setTimeout(0); // (injected requests have no socket)
    const b = req.body;
    return { data: await opts.keymanager.import(b.keystores, b.passwords, b.slashing_protection) };
  });

  api.delete("/eth/v1/keystores", { schema: { body: KeystoreDeleteBody } }, async (req) =>
    opts.keymanager.delete(req.body.pubkeys),
  );
}
