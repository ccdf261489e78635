import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { SignParams } from "../../../schemas/eth2.js";
import type { EthSignerMetrics } from "../../../signer/index.js";
import { isAppError } from "../../../util/errors.js";
import { toHex } from "../../../util/hex.js";
import { typed } from "../../typed.js";

/** What the routes need of a signing service: the local signer (EthSigner) or a threshold node. */
export interface Eth2SigningService {
  sign(pubkeyHex: string, body: unknown): Promise<{ signature: Uint8Array }>;
  listKeys(): readonly { pubkeyHex: string }[];
  /** The public keys as a JSON array, if the service keeps it built (large key sets). */
  publicKeysJson?(): Buffer;
}

export interface SignRoutesOptions {
  signer: Eth2SigningService;
  metrics: EthSignerMetrics | null;
}

/** Web3Signer content negotiation: JSON for `application/json` or `*\/*`, otherwise text/plain. */
function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  if (accept === undefined) return false;
  return accept
    .toLowerCase()
    .split(",")
    .some((v) => {
      const t = v.split(";")[0]!.trim();
      return t === "application/json" || t === "*/*";
    });
}

function signingType(body: unknown): string {
  const t = (body as { type?: unknown } | null)?.type;
  return typeof t === "string" ? t.toUpperCase().slice(0, 48) : "UNKNOWN";
}

/** `POST /api/v1/eth2/sign/{identifier}` and `GET /api/v1/eth2/publicKeys`. */
export async function signRoutes(app: FastifyInstance, opts: SignRoutesOptions): Promise<void> {
  const api = typed(app);
  // The body is Web3Signer's signing request, parsed (with its typed errors) by the signing service.
  const schema = { params: SignParams };
  api.post("/api/v1/eth2/sign/:identifier", { schema }, async (req, reply: FastifyReply) => {
    const type = signingType(req.body);
    try {
      const { signature } = await opts.signer.sign(req.params.identifier, req.body);
      opts.metrics?.requests.inc({ type, status: "200" });
      const hex = toHex(signature);
      if (wantsJson(req)) return reply.type("application/json; charset=utf-8").send({ signature: hex });
      return reply.type("text/plain; charset=utf-8").send(hex);
    } catch (e) {
      opts.metrics?.requests.inc({ type, status: isAppError(e) ? e.code : "ERR_INTERNAL" });
      throw e;
    }
  });

  api.get("/api/v1/eth2/publicKeys", async (_req, reply) =>
    reply
      .type("application/json; charset=utf-8")
      .send(opts.signer.publicKeysJson?.() ?? JSON.stringify(opts.signer.listKeys().map((k) => k.pubkeyHex))),
  );
}
