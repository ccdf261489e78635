import {
  CometWireError,
  CometWireErrorCode,
  emptyProposal,
  emptyVote,
  needsExtensionSignature,
  type Proposal,
  proposalSignBytes,
  type Vote,
  validateProposal,
  validateVote,
  voteExtensionSignBytes,
  voteSignBytes,
} from "../../chains/cometbft/index.js";
import type { CometSigningKey, CometSignOutcome, CometSignRequest } from "../../protection/index.js";

/** The protection path as the signer sees it (CometBftProtection.sign): decides, signs, records, then returns. */
export interface CometProtectedSign {
  sign(req: CometSignRequest): Promise<CometSignOutcome>;
}

export interface CometBftSignerOptions {
  chainId: string;
}

export interface CometBftSignerModules {
  key: CometSigningKey;
  protection: CometProtectedSign;
}

const EMPTY = new Uint8Array(0);

/**
 * The CometBFT signing flow, outside the privval transport, in the steps every chain has:
 * parse (chain id, height/round/step, canonical sign bytes) → gates (none beyond the key being this
 * chain's configured key, which protection checks) → protect → sign → answer (what the node copies back).
 *
 * The documented variant of the one flow: protect and sign are one step here, inside the protection
 * transaction (CometBftProtection.sign). A request that differs from a signed one only in its timestamp
 * must get the stored signature and timestamp back, and only the transaction that reads the stored
 * state can know that; the record is still committed before the signature leaves.
 */
export class CometBftSigner {
  constructor(
    private readonly opts: CometBftSignerOptions,
    private readonly m: CometBftSignerModules,
  ) {}

  /** A signed vote as the node copies it back; refusals throw CometSignError, bad input CometWireError. */
  async signVote(vote: Vote, chainId: string, skipExtension: boolean): Promise<Vote> {
    // parse
    this.checkChainId(chainId);
    const hrs = validateVote(vote);
    const signBytes = voteSignBytes(chainId, vote);
    // protect + sign (inside the transaction)
    const out = await this.m.protection.sign({ chainId, pubkey: this.m.key.publicKey, kind: "vote", hrs, signBytes });
    // The extension signature is not protected state: extensions are not deterministic, FilePV signs
    // the new one even when it returns a stored vote signature.
    const extensionSignature =
      needsExtensionSignature(vote) && !skipExtension
        ? await this.m.key.sign(voteExtensionSignBytes(chainId, vote))
        : EMPTY;
    // answer: only what the node copies back; never echo the (up to 1 MiB) extension past its 10 KiB read limit.
    return { ...emptyVote(), timestamp: out.timestamp ?? vote.timestamp, signature: out.signature, extensionSignature };
  }

  async signProposal(proposal: Proposal, chainId: string): Promise<Proposal> {
    // parse
    this.checkChainId(chainId);
    const hrs = validateProposal(proposal);
    const signBytes = proposalSignBytes(chainId, proposal);
    // protect + sign (inside the transaction)
    const out = await this.m.protection.sign({
      chainId,
      pubkey: this.m.key.publicKey,
      kind: "proposal",
      hrs,
      signBytes,
    });
    // answer
    return { ...emptyProposal(), timestamp: out.timestamp ?? proposal.timestamp, signature: out.signature };
  }

  private checkChainId(chainId: string): void {
    if (chainId !== this.opts.chainId)
      throw new CometWireError(
        CometWireErrorCode.ChainIdMismatch,
        `request for chain "${chainId.slice(0, 64)}", this signer serves "${this.opts.chainId}"`,
      );
  }
}
