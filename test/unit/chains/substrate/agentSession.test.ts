import { describe, expect, it } from "vitest";
import {
  keystoreEntryFromFileName,
  parseNodeRoles,
  parseRpcBool,
  parseSubstrateFacts,
  substrateActivity,
} from "../../../../src/chains/substrate/agentSession.js";
import { BadRequestError } from "../../../../src/util/errors.js";
import { mutate, rng } from "../../../utils/fuzz.js";
import { loadVector, skipWithoutVectors } from "../../../utils/vectors.js";

describe("Substrate agent parsers", () => {
  it("keystore file names of the shared vectors give key type and public key", (ctx) => {
    skipWithoutVectors(ctx, { vectors: ["substrate/keys.json"] });
    const v = loadVector<Record<string, unknown>>("substrate/keys.json");
    const names = JSON.stringify(v).match(/"(6[0-9a-f]{7}[0-9a-f]{64,66})"/g) ?? [];
    expect(names.length).toBeGreaterThan(0);
    for (const quoted of names) {
      const name = quoted.slice(1, -1);
      const e = keystoreEntryFromFileName(name);
      if (e === null) continue; // a key type that is not a session key (e.g. acco)
      expect(name.startsWith(Buffer.from(e.keyType, "latin1").toString("hex"))).toBe(true);
      expect(e.pubkey).toBe(`0x${name.slice(8)}`);
    }
    expect(keystoreEntryFromFileName(`62616265${"ab".repeat(32)}`)).toEqual({
      keyType: "babe",
      pubkey: `0x${"ab".repeat(32)}`,
    });
    expect(keystoreEntryFromFileName(`62656566${"02".repeat(33)}`)).toEqual({
      keyType: "beef",
      pubkey: `0x${"02".repeat(33)}`,
    });
    for (const n of [`62616265${"ab".repeat(31)}`, "README", `61636367${"ab".repeat(32)}`])
      expect(keystoreEntryFromFileName(n)).toBeNull();
  });

  it("an Authority holding a slashable session key signs with it", () => {
    const f = (o: object) =>
      substrateActivity(
        parseSubstrateFacts({ key_type: "babe", authority: true, has_key: true, session_keys: null, ...o }),
      );
    expect(f({})).toEqual({ active: true, certainty: 0.9, signerId: null });
    expect(f({ session_keys: true }).certainty).toBe(1);
    expect(f({ authority: false }).active).toBe(false);
    expect(f({ has_key: false }).active).toBe(false);
    expect(f({ has_key: null }).active).toBe(false);
    expect(f({ key_type: "audi" }).active).toBe(false);
    expect(f({ key_type: "gran" }).active).toBe(true);
  });

  it("RPC answers are checked", () => {
    expect(parseNodeRoles(["Authority"])).toEqual(["Authority"]);
    expect(() => parseNodeRoles("Authority")).toThrow(BadRequestError);
    expect(parseRpcBool(true, "author_hasKey")).toBe(true);
    expect(() => parseRpcBool("true", "author_hasKey")).toThrow(BadRequestError);
  });

  it("fuzz: mutated facts fail with ERR_BAD_REQUEST only", () => {
    const r = rng(13);
    for (let i = 0; i < 2000; i++) {
      try {
        parseSubstrateFacts(mutate({ key_type: "babe", authority: true, has_key: true, session_keys: null }, r));
      } catch (e) {
        expect(e).toBeInstanceOf(BadRequestError);
      }
    }
  });
});
