import type { FastifyInstance } from "fastify";
import type { Keymanager } from "../../../signer/ethereum/keymanager.js";
import { BadRequestError } from "../../../util/errors.js";
import { bearerAuth } from "../../plugins/bearerAuth.js";

export interface KeymanagerRoutesOptions {
  keymanager: Keymanager;
  token: string;
}

/** Keymanager API `/eth/v1/keystores` (GET, POST, DELETE), behind a bearer token. */
export async function keymanagerRoutes(app: FastifyInstance, opts: KeymanagerRoutesOptions): Promise<void> {
  // onRequest: an unauthenticated request is refused before its (up to 64 MiB) body is read
  app.addHook("onRequest", bearerAuth(opts.token));

  app.get("/eth/v1/keystores", async (_req, reply) =>
    reply.type("application/json; charset=utf-8").send(opts.keymanager.listJson()),
  );

  // Imports carry many keystores and a slashing-protection history: a larger body than signing requests.
  app.post("/eth/v1/keystores", { bodyLimit: 64 << 20 }, async (req) => {
    // an authenticated import may decrypt for minutes without a byte on the wire: not an idle socket
    const socket = req.raw.socket as { setTimeout?: (ms: number) => void } | undefined;
    if (typeof socket?.setTimeout === "function") socket.setTimeout(0); // (injected requests have no socket)
    const b = req.body as { keystores?: unknown; passwords?: unknown; slashing_protection?: unknown } | null;
    if (!Array.isArray(b?.keystores) || !Array.isArray(b?.passwords)) {
      throw new BadRequestError("keystores and passwords arrays are required", "keystores");
    }
    if (b.slashing_protection !== undefined && typeof b.slashing_protection !== "string") {
      throw new BadRequestError("slashing_protection must be an EIP-3076 document as a string", "slashing_protection");
    }
    return { data: await opts.keymanager.import(b.keystores, b.passwords, b.slashing_protection) };
  });

  app.delete("/eth/v1/keystores", async (req) => {
    const b = req.body as { pubkeys?: unknown } | null;
    if (!Array.isArray(b?.pubkeys)) throw new BadRequestError("pubkeys array is required", "pubkeys");
    return opts.keymanager.delete(b.pubkeys as string[]);
  });
}
