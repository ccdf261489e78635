import { describe, expect, it } from "vitest";
import { formatStateFile, parseStateFile, StateFileErrorCode } from "../../src/chains/cometbft/stateFile.js";
import { Step } from "../../src/chains/cometbft/types.js";
import { KeyFileErrorCode, parseCometBftKeyFile } from "../../src/keys/cometbftKeyFile.js";
import { ed25519FromSeed } from "../../src/util/curve25519.js";
import { cometVector, hex } from "../utils/cometVectors.js";
import { withVectors } from "../utils/vectors.js";

type Formats = Record<string, Record<string, unknown>>;
withVectors("priv_validator_state.json formats", { vectors: ["cometbft/priv_validator_state_formats.json"] }, () => {
  const file = cometVector<Formats>("priv_validator_state_formats.json");
  const filepv = Object.entries(file).find(([k]) => k.startsWith("priv_validator_state.json"))![1];
  const keyFormat = Object.entries(file).find(([k]) => k.startsWith("priv_validator_key.json"))![1];
  const realWorld = Object.entries(filepv).find(([k]) => k.startsWith("real_world_example"))![1] as Record<
    string,
    unknown
  >;
  const testExample = Object.entries(filepv).find(([k]) => k.startsWith("test_example"))![1] as string;

  describe("priv_validator_state.json formats (vectors/cometbft/priv_validator_state_formats.json)", () => {
    it("fresh FilePV file", () => {
      const p = parseStateFile(filepv.fresh_file_example as string);
      expect(p.format).toBe("filepv");
      expect(p.state).toEqual({ hrs: { height: 0n, round: 0, step: Step.None }, signBytes: null, signature: null });
    });

    it("FilePV test example (tabs, no sign bytes)", () => {
      expect(parseStateFile(testExample).state.hrs).toEqual({ height: 1n, round: 1, step: Step.Propose });
    });

    it("real juno-1 file: sign bytes match the state and it writes back byte-identical fields", () => {
      const text = JSON.stringify(realWorld);
      const p = parseStateFile(text);
      expect(p.state.hrs).toEqual({ height: 361402n, round: 0, step: Step.Precommit });
      expect(p.state.signature?.length).toBe(64);
      expect(JSON.parse(formatStateFile(p.state))).toEqual(realWorld);
    });

    it("Horcrux file: round as a string", () => {
      const p = parseStateFile('{"height":"361402","round":"0","step":3,"nonce_public":"AAAA"}');
      expect(p.format).toBe("horcrux");
      expect(p.state.hrs).toEqual({ height: 361402n, round: 0, step: Step.Precommit });
    });

    it("tmkms file: its step numbering (proposal 0, prevote 1, precommit 2) maps onto FilePV's", () => {
      const at = (step: number) =>
        parseStateFile(`{"height":"100","round":"2","step":${step},"block_id":null}`).state.hrs.step;
      expect([at(0), at(1), at(2)]).toEqual([Step.Propose, Step.Prevote, Step.Precommit]);
      expect(parseStateFile('{"height":"0","round":"0","step":0,"block_id":null}').state.hrs.step).toBe(Step.None);
    });

    it("refuses sign bytes of another height/round/step, or a signature without sign bytes", () => {
      const wrong = { ...realWorld, height: "361403" };
      expect(() => parseStateFile(JSON.stringify(wrong))).toThrow(
        expect.objectContaining({ code: StateFileErrorCode.Invalid }),
      );
      const { signbytes: _s, ...noBytes } = realWorld;
      expect(() => parseStateFile(JSON.stringify(noBytes))).toThrow(
        expect.objectContaining({ code: StateFileErrorCode.Invalid }),
      );
    });

    it("priv_validator_key.json: pub_key and address are derived from priv_key", () => {
      const seed = hex("9d834d3fcac4ee25536b70e15376febb697861ab573405d8b89290417fd16070");
      const k = ed25519FromSeed(seed);
      const doc = {
        address: "DC52D5CF8DFD1793D71038B342A29B01AD8A5D63",
        pub_key: { type: "tendermint/PubKeyEd25519", value: Buffer.from(k.publicKey).toString("base64") },
        priv_key: {
          type: "tendermint/PrivKeyEd25519",
          value: Buffer.concat([seed, k.publicKey]).toString("base64"),
        },
      };
      expect(String(keyFormat.format)).toContain("tendermint/PrivKeyEd25519");
      const parsed = parseCometBftKeyFile(JSON.stringify(doc), "k.json");
      expect(parsed.address).toBe(doc.address);
      expect(Buffer.from(parsed.publicKey).toString("base64")).toBe(doc.pub_key.value);
      const other = { ...doc, address: "00".repeat(20) };
      expect(() => parseCometBftKeyFile(JSON.stringify(other), "k.json")).toThrow(
        expect.objectContaining({ code: KeyFileErrorCode.Invalid }),
      );
    });
  });
});
