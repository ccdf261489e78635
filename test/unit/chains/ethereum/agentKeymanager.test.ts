import { describe, expect, it } from "vitest";
import {
  ethActivity,
  parseEthFacts,
  parseKeystoresList,
  parseRemoteKeysList,
  sharedSignerId,
} from "../../../../src/chains/ethereum/agentKeymanager.js";
import { BadRequestError } from "../../../../src/util/errors.js";
import { mutate, rng } from "../../../utils/fuzz.js";

const PK = `0x${"a1".repeat(48)}`;

describe("keymanager API parsers", () => {
  it("lists local keystores and remote keys", () => {
    expect(
      parseKeystoresList({
        data: [
          {
            validating_pubkey: PK.toUpperCase().replace("0X", "0x"),
            derivation_path: "m/12381/3600/0/0/0",
            readonly: false,
          },
        ],
      }),
    ).toEqual([{ pubkey: PK, source: "local", signerUrl: null, readonly: false }]);
    expect(parseRemoteKeysList({ data: [{ pubkey: PK, url: "https://signer.example:9000", readonly: true }] })).toEqual(
      [{ pubkey: PK, source: "remote", signerUrl: "https://signer.example:9000", readonly: true }],
    );
    expect(() => parseKeystoresList({ data: [{ validating_pubkey: "0x12" }] })).toThrow(BadRequestError);
  });

  it("a shared remote signer is one beyond loopback; loopback signers are per host", () => {
    expect(sharedSignerId("https://Signer.example:9000/path")).toBe("https://signer.example:9000");
    for (const u of ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000", "not a url", null])
      expect(sharedSignerId(u)).toBeNull();
    expect(ethActivity(parseEthFacts({ source: "local", signer_url: null, readonly: false }))).toEqual({
      active: true,
      certainty: 1,
      signerId: null,
    });
    expect(
      ethActivity(parseEthFacts({ source: "remote", signer_url: "http://10.0.0.5:9000", readonly: false })).signerId,
    ).toBe("http://10.0.0.5:9000");
  });

  it("fuzz: mutated lists and facts fail with ERR_BAD_REQUEST only", () => {
    const r = rng(11);
    for (let i = 0; i < 2000; i++) {
      for (const [fn, v] of [
        [parseKeystoresList, { data: [{ validating_pubkey: PK, derivation_path: "", readonly: false }] }],
        [parseRemoteKeysList, { data: [{ pubkey: PK, url: "https://x", readonly: false }] }],
        [parseEthFacts, { source: "remote", signer_url: "https://x", readonly: false }],
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
