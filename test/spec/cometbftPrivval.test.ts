import { describe, expect, it } from "vitest";
import {
  decodePrivvalMessage,
  encodePrivvalMessage,
  type PrivvalMessage,
  type PubKeyLayout,
} from "../../src/chains/cometbft/privvalMessages.js";
import { emptyProposal, emptyVote, type Proposal, type Vote } from "../../src/chains/cometbft/types.js";
import { cometVector, hex, parseRfc3339, sha256, toHexStr } from "../utils/cometVectors.js";
import { withVectors } from "../utils/vectors.js";

interface MessagesFile {
  vectors: { proto: string; name: string; expected_hex: string }[];
  derived: { sign_vote_request_with_chain_id_and_skip_ext_v1: string };
}

// The inputs of privval/msgs_test.go TestPrivvalVectors, as the vector file describes them.
const stamp = parseRfc3339("2019-10-13T16:14:44Z")!;
const blockId = {
  hash: sha256("blockID_hash"),
  partSetHeader: { total: 1000000, hash: sha256("blockID_part_set_header_hash") },
};
const pubKey = hex("556a436f1218d30942efe798420f51dc9b6a311b929c578257457d05c5fcf230");
const vote: Vote = {
  ...emptyVote(),
  type: 2,
  height: 3n,
  round: 2,
  blockId,
  timestamp: stamp,
  validatorAddress: sha256("validator_address").subarray(0, 20),
  validatorIndex: 56789,
  extension: new TextEncoder().encode("extension"),
};
const proposal: Proposal = {
  type: 1,
  height: 3n,
  round: 2,
  polRound: 2,
  blockId,
  timestamp: stamp,
  signature: new TextEncoder().encode("it's a signature"),
};
const error = { code: 1, description: "it's a error" };

function expectedMessage(name: string, layout: PubKeyLayout): PrivvalMessage {
  switch (name) {
    case "ping request":
      return { kind: "pingRequest" };
    case "ping response":
      return { kind: "pingResponse" };
    case "pubKey request":
      return { kind: "pubKeyRequest", chainId: "" };
    case "pubKey response":
      return { kind: "pubKeyResponse", pubKey, error: null, layout };
    case "pubKey response with error":
      return { kind: "pubKeyResponse", pubKey: null, error, layout };
    case "Vote Request":
      return { kind: "signVoteRequest", vote, chainId: "", skipExtensionSigning: false };
    case "Vote Response":
      return { kind: "signedVoteResponse", vote, error: null };
    case "Vote Response with error":
      return { kind: "signedVoteResponse", vote: emptyVote(), error };
    case "Proposal Request":
      return { kind: "signProposalRequest", proposal, chainId: "" };
    case "Proposal Response":
      return { kind: "signedProposalResponse", proposal, error: null };
    case "Proposal Response with error":
      return { kind: "signedProposalResponse", proposal: emptyProposal(), error };
    default:
      throw new Error(`no input for vector ${name}`);
  }
}

withVectors("privval messages", { vectors: ["cometbft/privval_messages.json"] }, () => {
  const file = cometVector<MessagesFile>("privval_messages.json");
  describe("privval messages (vectors/cometbft/privval_messages.json)", () => {
    it("covers both proto generations", () => {
      expect(file.vectors.filter((v) => v.proto.startsWith("tendermint.privval"))).toHaveLength(11);
      expect(file.vectors.filter((v) => v.proto.startsWith("cometbft.privval.v1"))).toHaveLength(11);
    });

    for (const v of file.vectors) {
      const layout: PubKeyLayout = v.proto.startsWith("cometbft") ? "v1" : "v0.38";
      it(`${v.proto.split(" ")[0]}: ${v.name}`, () => {
        const msg = expectedMessage(v.name, layout);
        expect(toHexStr(encodePrivvalMessage(msg))).toBe(v.expected_hex);
        const decoded = decodePrivvalMessage(hex(v.expected_hex));
        const { layout: _ignored, ...want } = msg as PrivvalMessage & { layout?: PubKeyLayout };
        expect(decoded).toEqual(want);
      });
    }

    it("the 'both' PubKeyResponse carries the key where each generation reads it", () => {
      const both = encodePrivvalMessage({ kind: "pubKeyResponse", pubKey, error: null, layout: "both" });
      const old = toHexStr(encodePrivvalMessage({ kind: "pubKeyResponse", pubKey, error: null, layout: "v0.38" }));
      const v1 = toHexStr(encodePrivvalMessage({ kind: "pubKeyResponse", pubKey, error: null, layout: "v1" }));
      // field 1 (0.38) and fields 3/4 (v1) side by side inside one member
      expect(toHexStr(both)).toBe(`124f${old.slice(4)}${v1.slice(4)}`);
      expect(decodePrivvalMessage(both)).toEqual({ kind: "pubKeyResponse", pubKey, error: null });
    });

    it("v1 SignVoteRequest with chain id and skip_extension_signing (derived)", () => {
      const bytes = hex(file.derived.sign_vote_request_with_chain_id_and_skip_ext_v1);
      expect(decodePrivvalMessage(bytes)).toEqual({
        kind: "signVoteRequest",
        vote,
        chainId: "test_chain_id",
        skipExtensionSigning: true,
      });
      expect(
        toHexStr(
          encodePrivvalMessage({ kind: "signVoteRequest", vote, chainId: "test_chain_id", skipExtensionSigning: true }),
        ),
      ).toBe(file.derived.sign_vote_request_with_chain_id_and_skip_ext_v1);
    });
  });
});
