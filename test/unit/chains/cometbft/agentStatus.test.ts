import { describe, expect, it } from "vitest";
import {
  cometActivity,
  parseCometConfigToml,
  parseCometFacts,
  parseCometStatus,
  parsePrivValidatorKeyPublic,
} from "../../../../src/chains/cometbft/agentStatus.js";
import { BadRequestError } from "../../../../src/util/errors.js";
import { FakeCometNode } from "../../../utils/fakeNodes.js";
import { mutate, rng } from "../../../utils/fuzz.js";

const STATUS = { jsonrpc: "2.0", id: -1, result: new FakeCometNode().status };

describe("CometBFT agent parsers", () => {
  it("reads /status: validator key, voting power (u64 as bigint), catching_up", () => {
    const s = parseCometStatus(STATUS);
    expect(s.network).toBe("test-chain-1");
    expect(s.catchingUp).toBe(false);
    expect(s.validator).toMatchObject({ keyType: "ed25519", votingPower: 100n, pubkey: `0x${"07".repeat(32)}` });
    const big = structuredClone(STATUS);
    big.result.validator_info.voting_power = "18446744073709551615";
    expect(parseCometStatus(big).validator?.votingPower).toBe(18446744073709551615n);
  });

  it("reads only the public half of priv_validator_key.json", () => {
    const k = parsePrivValidatorKeyPublic({
      address: "C0FFEE0000000000000000000000000000000001",
      pub_key: { type: "tendermint/PubKeyEd25519", value: Buffer.alloc(32, 1).toString("base64") },
      priv_key: { type: "tendermint/PrivKeyEd25519", value: Buffer.alloc(64, 9).toString("base64") },
    });
    expect(k).toEqual({
      address: "C0FFEE0000000000000000000000000000000001",
      pubkey: `0x${"01".repeat(32)}`,
      keyType: "ed25519",
    });
    expect(JSON.stringify(k)).not.toContain(Buffer.alloc(64, 9).toString("base64"));
  });

  it("reads priv_validator_laddr and the key file from the base section of config.toml only", () => {
    const toml = [
      "# comment",
      'proxy_app = "tcp://127.0.0.1:26658"',
      'priv_validator_laddr = "tcp://0.0.0.0:1234"',
      'priv_validator_key_file = "config/key.json" # inline comment',
      "[rpc]",
      'priv_validator_laddr = "ignored"',
    ].join("\n");
    expect(parseCometConfigToml(toml)).toEqual({
      privValidatorLaddr: "tcp://0.0.0.0:1234",
      privValidatorKeyFile: "config/key.json",
    });
    expect(parseCometConfigToml('priv_validator_laddr = ""\n')).toEqual({
      privValidatorLaddr: "",
      privValidatorKeyFile: "config/priv_validator_key.json",
    });
  });

  it("a local validator key with voting power, not catching up, signs; anything less does not", () => {
    const base = { node_key: true, file_key: true, local_signer: true, voting_power: "10", catching_up: false };
    const table: [Record<string, unknown>, boolean][] = [
      [{}, true],
      [{ voting_power: "0" }, false],
      [{ voting_power: null }, false],
      [{ catching_up: true }, false],
      [{ catching_up: null }, false],
      [{ local_signer: false }, false],
      [{ node_key: false }, false],
    ];
    for (const [patch, want] of table) expect(cometActivity(parseCometFacts({ ...base, ...patch })).active).toBe(want);
  });

  it("fuzz: mutated answers and facts fail with ERR_BAD_REQUEST only", () => {
    const r = rng(7);
    const facts = { node_key: true, file_key: true, local_signer: true, voting_power: "10", catching_up: false };
    for (let i = 0; i < 2000; i++) {
      for (const [fn, v] of [
        [parseCometStatus, STATUS],
        [parseCometFacts, facts],
      ] as const) {
        try {
          fn(mutate(v, r));
        } catch (e) {
          expect(e).toBeInstanceOf(BadRequestError);
        }
      }
    }
  });
});
