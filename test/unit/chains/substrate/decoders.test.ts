import { describe, expect, it } from "vitest";
import { babePreDigestOf, checkBabeSeal } from "../../../../src/chains/substrate/babe.js";
import { checkBeefyCommitment } from "../../../../src/chains/substrate/beefy.js";
import { classifySignRequest } from "../../../../src/chains/substrate/classify.js";
import { SubstrateError } from "../../../../src/chains/substrate/errors.js";
import { decodeGrandpaPayload } from "../../../../src/chains/substrate/grandpa.js";
import { decodeParaMessage } from "../../../../src/chains/substrate/para.js";
import { encodeCompact, ScaleReader } from "../../../../src/chains/substrate/scale.js";

/** xorshift32: a seeded generator so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

describe("SCALE compact", () => {
  it.each([0n, 1n, 63n, 64n, 16383n, 16384n, (1n << 30n) - 1n, 1n << 30n, (1n << 32n) - 1n, (1n << 64n) - 1n])(
    "round-trips %s",
    (v) => {
      const r = new ScaleReader(encodeCompact(v), "test");
      expect(r.compact("v")).toBe(v);
      r.end();
    },
  );

  it("refuses non-canonical encodings", () => {
    for (const bad of [
      Uint8Array.of(0x01, 0x00),
      Uint8Array.of(0x02, 0x00, 0x00, 0x00),
      Uint8Array.of(0x03, 0, 0, 0, 0),
    ]) {
      expect(() => new ScaleReader(bad, "test").compact("v")).toThrow(SubstrateError);
    }
  });
});

describe("parachain statements decode from the message", () => {
  const hash = new Uint8Array(32).fill(0xab);
  const u32 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
  it.each([
    [
      "backing seconded",
      Uint8Array.of(...Buffer.from("BKNG"), 1, ...hash, ...u32(9), ...new Uint8Array(32)),
      "seconded",
    ],
    ["backing valid", Uint8Array.of(...Buffer.from("BKNG"), 2, ...hash, ...u32(9), ...new Uint8Array(32)), "valid"],
    ["dispute valid", Uint8Array.of(...Buffer.from("DISP"), 1, ...hash, ...u32(9)), "valid"],
    ["dispute invalid", Uint8Array.of(...Buffer.from("DISP"), 0, ...hash, ...u32(9)), "invalid"],
    ["approval", Uint8Array.of(...Buffer.from("APPR"), ...hash, ...u32(9)), "valid"],
  ] as const)("%s", (_, msg, statement) => {
    expect(decodeParaMessage(msg)).toEqual([{ kind: "para", candidateHash: hash, statement, session: 9n }]);
  });

  it("approval of several candidates gives one record each; bitfields give none", () => {
    const two = Uint8Array.of(...Buffer.from("APPR"), 0x08, ...hash, ...new Uint8Array(32), ...u32(3));
    expect(decodeParaMessage(two).map((r) => r.statement)).toEqual(["valid", "valid"]);
    expect(decodeParaMessage(Uint8Array.of(0x04, 0xff, ...u32(3), ...new Uint8Array(32)))).toEqual([]);
  });

  it("a payload that contradicts the message is refused; one about an unreadable message is recorded", () => {
    const msg = Uint8Array.of(...Buffer.from("DISP"), 1, ...hash, ...u32(9));
    expect(() =>
      classifySignRequest(
        "para",
        msg,
        { para: { statement: "invalid", candidateHash: hash } },
        { requirePayload: true },
      ),
    ).toThrow(expect.objectContaining({ code: "ERR_SUBSTRATE_PAYLOAD_MISMATCH" }));
    const recs = classifySignRequest(
      "para",
      Uint8Array.of(1, 2, 3),
      { para: { statement: "invalid", candidateHash: hash }, sessionIndex: 4 },
      { requirePayload: true },
    );
    expect(recs).toEqual([{ kind: "para", candidateHash: hash, statement: "invalid", session: 4n }]);
  });

  it("a GRANDPA payload that disagrees with the message is refused", () => {
    const msg = Uint8Array.of(0, ...hash, ...u32(5), ...new Uint8Array(8), ...new Uint8Array(8));
    const grandpa = { stage: 0, targetHash: hash, targetNumber: 6n, round: 0n, setId: 0n };
    expect(() => classifySignRequest("gran", msg, { grandpa }, { requirePayload: true })).toThrow(
      expect.objectContaining({ code: "ERR_SUBSTRATE_PAYLOAD_MISMATCH" }),
    );
    expect(
      classifySignRequest("gran", msg, { grandpa: { ...grandpa, targetNumber: 5n } }, { requirePayload: true }),
    ).toHaveLength(1);
  });
});

describe("decoders fuzz: random and mutated input throws only typed errors", () => {
  const seeds = [
    Uint8Array.from(
      Buffer.from(
        "00abababababababababababababababababababababababababababababababababfbb14f01bb1f0000000000000700000000000000",
        "hex",
      ),
    ),
    Uint8Array.from(
      Buffer.from(
        "040642414245b501032a00000007e35b1100000000111111111111111111111111111111111111111111111111111111111111111122222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222",
        "hex",
      ),
    ),
    Uint8Array.of(...Buffer.from("DISP"), 1, ...new Uint8Array(32), 1, 0, 0, 0),
    Uint8Array.of(0x04, 0x6d, 0x68, 0x80, ...new Uint8Array(32), 100, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0),
  ];
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ["grandpa", decodeGrandpaPayload],
    ["babe digest", babePreDigestOf],
    [
      "babe seal",
      (b) =>
        checkBabeSeal(new Uint8Array(32), {
          parentHash: new Uint8Array(32),
          number: 1n,
          stateRoot: new Uint8Array(32),
          extrinsicsRoot: new Uint8Array(32),
          digest: b,
        }),
    ],
    ["para", decodeParaMessage],
    ["beefy", (b) => checkBeefyCommitment(new Uint8Array(32), b)],
  ];

  it.each(decoders)("%s: 4000 inputs", (_, decode) => {
    const next = rng(0x5eed);
    for (let i = 0; i < 4000; i++) {
      let input: Uint8Array;
      if (i % 2 === 0) {
        input = Uint8Array.from({ length: next() % 140 }, () => next() & 0xff);
      } else {
        const base = seeds[next() % seeds.length]!;
        input = Uint8Array.from(base);
        const flips = 1 + (next() % 4);
        for (let f = 0; f < flips && input.length > 0; f++) input[next() % input.length] = next() & 0xff;
        if (next() % 3 === 0) input = input.subarray(0, next() % (input.length + 1));
      }
      try {
        decode(input);
      } catch (e) {
        if (!(e instanceof SubstrateError))
          throw new Error(`case ${i}: untyped ${String(e)} for ${Buffer.from(input).toString("hex")}`);
      }
    }
  });
});
