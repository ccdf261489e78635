import type { PrivvalMessage, PubKeyLayout, RemoteSignerError } from "../chains/cometbft/index.js";
import {
  CometSignError,
  CometWireError,
  CometWireErrorCode,
  emptyProposal,
  emptyVote,
  type Proposal,
  type Vote,
} from "../chains/cometbft/index.js";
import type { CometSigningKey } from "../protection/index.js";
import { CometBftSigner, type CometProtectedSign } from "../signer/index.js";
import { isAppError } from "../util/errors.js";

/** The protection path as the handler sees it (CometBftProtection.sign). */
export type CometSigner = CometProtectedSign;

export interface RequestHandlerOptions {
  chainId: string;
  pubKeyLayout: PubKeyLayout;
}

export interface RequestHandlerModules {
  key: CometSigningKey;
  signer: CometSigner;
}

/** RemoteSignerError codes: the node ignores them; 2 for a double-sign refusal is what operators already alert on. */
const CODE_UNEXPECTED = 1;
const CODE_DOUBLE_SIGN = 2;
const EMPTY = new Uint8Array(0);

export interface HandledRequest {
  response: PrivvalMessage;
  /** For metrics and logs: what was asked and how it ended. */
  type: string;
  outcome: "ok" | "refused" | "invalid" | "error";
  code?: string;
}

/**
 * Answers one privval request. Every request of a known type gets the response of its type, refusals
 * included (a RemoteSignerError, so the node skips this step and keeps the connection); the signature
 * only ever comes from the protection path, which has recorded it before it returns.
 */
export class RequestHandler {
  /** The signing flow (parse, protect + sign, answer); this class only translates privval messages. */
  private readonly signer: CometBftSigner;

  constructor(
    private readonly opts: RequestHandlerOptions,
    private readonly modules: RequestHandlerModules,
  ) {
    this.signer = new CometBftSigner({ chainId: opts.chainId }, { key: modules.key, protection: modules.signer });
  }

  async handle(msg: PrivvalMessage): Promise<HandledRequest> {
    switch (msg.kind) {
      case "pingRequest":
        return { response: { kind: "pingResponse" }, type: "ping", outcome: "ok" };
      case "pubKeyRequest":
        return this.pubKey(msg.chainId);
      case "signVoteRequest":
        return this.signVote(msg.vote, msg.chainId, msg.skipExtensionSigning);
      case "signProposalRequest":
        return this.signProposal(msg.proposal, msg.chainId);
      case "signBytesRequest":
        // Arbitrary bytes could be a vote in disguise: nothing but consensus messages is signed.
        return {
          response: {
            kind: "signBytesResponse",
            signature: EMPTY,
            error: err(CODE_UNEXPECTED, "arbitrary byte signing is disabled"),
          },
          type: "sign_bytes",
          outcome: "refused",
          code: CometWireErrorCode.UnknownMessage,
        };
      default:
        // A newer request type or a response sent the wrong way: an empty message keeps the lockstep.
        return {
          response: { kind: "empty" },
          type: "unknown",
          outcome: "invalid",
          code: CometWireErrorCode.UnknownMessage,
        };
    }
  }

  private async pubKey(chainId: string): Promise<HandledRequest> {
    const layout = this.opts.pubKeyLayout;
    if (chainId !== this.opts.chainId) {
      return {
        response: {
          kind: "pubKeyResponse",
          pubKey: null,
          error: err(CODE_UNEXPECTED, "unable to provide pubkey: unknown chain id"),
          layout,
        },
        type: "pubkey",
        outcome: "refused",
        code: CometWireErrorCode.ChainIdMismatch,
      };
    }
    return {
      response: { kind: "pubKeyResponse", pubKey: this.modules.key.publicKey, error: null, layout },
      type: "pubkey",
      outcome: "ok",
    };
  }

  private async signVote(vote: Vote, chainId: string, skipExtension: boolean): Promise<HandledRequest> {
    const type = vote.type === 1 ? "prevote" : vote.type === 2 ? "precommit" : "vote";
    try {
      const signed = await this.signer.signVote(vote, chainId, skipExtension);
      return { response: { kind: "signedVoteResponse", vote: signed, error: null }, type, outcome: "ok" };
    } catch (e) {
      return this.refusal(e, type, (error) => ({ kind: "signedVoteResponse", vote: emptyVote(), error }));
    }
  }

  private async signProposal(proposal: Proposal, chainId: string): Promise<HandledRequest> {
    try {
      const signed = await this.signer.signProposal(proposal, chainId);
      return {
        response: { kind: "signedProposalResponse", proposal: signed, error: null },
        type: "proposal",
        outcome: "ok",
      };
    } catch (e) {
      return this.refusal(e, "proposal", (error) => ({
        kind: "signedProposalResponse",
        proposal: emptyProposal(),
        error,
      }));
    }
  }

  private refusal(e: unknown, type: string, respond: (error: RemoteSignerError) => PrivvalMessage): HandledRequest {
    const code = isAppError(e) ? e.code : "ERR_INTERNAL";
    if (e instanceof CometSignError)
      return {
        response: respond(err(CODE_DOUBLE_SIGN, `double signing refused: ${e.message}`)),
        type,
        outcome: "refused",
        code,
      };
    if (e instanceof CometWireError)
      return {
        response: respond(err(CODE_UNEXPECTED, `invalid request: ${e.message}`)),
        type,
        outcome: "invalid",
        code,
      };
    // Store down, lock timeout…: fail closed without saying more than the code.
    return { response: respond(err(0, `unable to sign: ${code}`)), type, outcome: "error", code };
  }
}

/** Descriptions are cut so that a response always stays far below the node's 10 KiB read limit. */
function err(code: number, description: string): RemoteSignerError {
  return { code, description: description.length > 512 ? `${description.slice(0, 509)}...` : description };
}
