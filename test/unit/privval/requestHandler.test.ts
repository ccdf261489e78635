import { describe, expect, it } from "vitest";
import { emptyVote } from "../../../src/chains/cometbft/types.js";
import { type CometSigner, RequestHandler } from "../../../src/privval/requestHandler.js";
import type { CometSignOutcome, CometSignRequest } from "../../../src/protection/cometbft/types.js";
import { StoreError, StoreErrorCode } from "../../../src/store/errors.js";
import { CHAIN_ID, testKey, vote } from "../../utils/comet.js";

const key = testKey("handler");

/** A protection stand-in injected through the handler's interface (no module mocking). */
class ScriptedSigner implements CometSigner {
  calls: CometSignRequest[] = [];
  constructor(private readonly answer: (r: CometSignRequest) => CometSignOutcome) {}
  async sign(req: CometSignRequest): Promise<CometSignOutcome> {
    this.calls.push(req);
    return this.answer(req);
  }
}

const handler = (signer: CometSigner): RequestHandler =>
  new RequestHandler({ chainId: CHAIN_ID, pubKeyLayout: "both" }, { key, signer });

describe("RequestHandler", () => {
  it("a store failure is refused with a RemoteSignerError and no signature (fail closed)", async () => {
    const down = new ScriptedSigner(() => {
      throw new StoreError({ code: StoreErrorCode.LockTimeout }, "lock timeout");
    });
    const h = await handler(down).handle({
      kind: "signVoteRequest",
      vote: vote("precommit", 5, 0, "B"),
      chainId: CHAIN_ID,
      skipExtensionSigning: false,
    });
    expect(h).toMatchObject({ outcome: "error", code: StoreErrorCode.LockTimeout });
    expect(h.response).toMatchObject({ kind: "signedVoteResponse", vote: emptyVote(), error: { code: 0 } });
  });

  it("invalid requests never reach the protection path", async () => {
    const s = new ScriptedSigner(() => ({ signature: new Uint8Array(64), timestamp: null, repeat: false }));
    const h = handler(s);
    for (const v of [{ ...vote("prevote", 5, 0, "B"), type: 3 }, vote("prevote", 0, 0, "B"), { ...emptyVote() }]) {
      const r = await h.handle({ kind: "signVoteRequest", vote: v, chainId: CHAIN_ID, skipExtensionSigning: false });
      expect(r.outcome).toBe("invalid");
    }
    await h.handle({
      kind: "signVoteRequest",
      vote: vote("prevote", 5, 0, "B"),
      chainId: "x",
      skipExtensionSigning: false,
    });
    expect(s.calls).toHaveLength(0);
  });

  it("a timestamp-only repeat answers with the stored timestamp; the answer carries nothing but timestamp and signatures", async () => {
    const stored = { seconds: 42n, nanos: 7 };
    const sig = new Uint8Array(64).fill(9);
    const s = new ScriptedSigner(() => ({ signature: sig, timestamp: stored, repeat: true }));
    const v = { ...vote("precommit", 5, 0, "B"), extension: new Uint8Array(1000).fill(1), validatorIndex: 3 };
    const h = await handler(s).handle({
      kind: "signVoteRequest",
      vote: v,
      chainId: CHAIN_ID,
      skipExtensionSigning: false,
    });
    expect(h.response.kind).toBe("signedVoteResponse");
    if (h.response.kind !== "signedVoteResponse") return;
    expect(h.response.vote).toMatchObject({
      timestamp: stored,
      signature: sig,
      extension: new Uint8Array(0),
      validatorIndex: 0,
    });
    expect(h.response.vote.extensionSignature).toHaveLength(64);
    expect(s.calls[0]).toMatchObject({ chainId: CHAIN_ID, kind: "vote", hrs: { height: 5n, round: 0, step: 3 } });
  });
});
