import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CometWireError } from "../../src/chains/cometbft/errors.js";
import {
  decodePrivvalMessage,
  encodePrivvalMessage,
  type PrivvalMessage,
} from "../../src/chains/cometbft/privvalMessages.js";
import { readDelimited } from "../../src/chains/cometbft/protobuf.js";
import { decodeCanonical } from "../../src/chains/cometbft/signBytes.js";
import { emptyProposal } from "../../src/chains/cometbft/types.js";
import { RequestHandler } from "../../src/privval/requestHandler.js";
import { CometBftProtection } from "../../src/protection/cometbft/cometBftProtection.js";
import { nullLogger } from "../../src/util/logger.js";
import { blockId, CHAIN_ID, T0, testKey, vote } from "../utils/comet.js";
import { openTestStore, type TestStore } from "../utils/stores.js";
import { fuzzRuns, fuzzSeed } from "./fuzzInputs.js";

/**
 * Issue 15, "keep probing": the CometBFT privval decoder and request handler, with a real protection store
 * behind it, fed mutated requests (flipped, cut, extended), over-long and out-of-range varints (negative
 * and 2^63+ heights, 2^64+ numbers), lengths past the end, deeply nested fields, and random bytes. The
 * decoder throws only CometWireError; the handler never throws and answers every request in its own
 * response type; a request that is not signed writes nothing. The length prefix reader and the canonical
 * sign-bytes decoder get the same bytes.
 */
const RUNS = fuzzRuns(5000);
const SEED = fuzzSeed() + 2;

let ts: TestStore;
let protection: CometBftProtection;
let handler: RequestHandler;

const seeds: Uint8Array[] = [
  encodePrivvalMessage({
    kind: "signVoteRequest",
    vote: vote("prevote", 5, 0, "B"),
    chainId: CHAIN_ID,
    skipExtensionSigning: false,
  }),
  encodePrivvalMessage({
    kind: "signVoteRequest",
    vote: { ...vote("precommit", 2n ** 62n, 3, "C"), extension: new Uint8Array(40).fill(7) },
    chainId: CHAIN_ID,
    skipExtensionSigning: false,
  }),
  encodePrivvalMessage({
    kind: "signProposalRequest",
    proposal: {
      ...emptyProposal(),
      type: 32,
      height: 7n,
      round: 1,
      polRound: -1,
      blockId: blockId("P"),
      timestamp: T0,
    },
    chainId: CHAIN_ID,
  }),
  encodePrivvalMessage({ kind: "pubKeyRequest", chainId: CHAIN_ID }),
  encodePrivvalMessage({ kind: "pingRequest" }),
  encodePrivvalMessage({ kind: "signBytesRequest", value: new Uint8Array(10) }),
];

function varint(v: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** Numbers no honest node sends: negative as int64, past int64, past u64, and over-long encodings. */
const badVarint = fc.oneof(
  fc.constantFrom(2n ** 63n, 2n ** 64n - 1n, 2n ** 64n + 1n, 2n ** 70n).map(varint),
  fc.nat(12).map((n) => [...Array(n).fill(0x85), 0x00]), // over-long zero-padded
  fc.constant([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // -1 as int64
  fc.constant([0x80, 0x80, 0x80]), // cut short
);

const mutated = fc
  .record({
    seed: fc.nat(seeds.length - 1),
    edits: fc.array(
      fc.oneof(
        fc.record({ op: fc.constant("flip" as const), at: fc.nat(), v: fc.nat(255) }),
        fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
        fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: badVarint }),
        fc.record({ op: fc.constant("append" as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ seed, edits }) => {
    let b = Array.from(seeds[seed]!);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : ("at" in e ? e.at : 0) % b.length;
      if (e.op === "flip") b[at] = e.v;
      else if (e.op === "cut") b = b.slice(0, at);
      else if (e.op === "insert") b.splice(at, 0, ...(e.bytes as readonly number[]));
      else b.push(...e.bytes);
    }
    return Uint8Array.from(b);
  });

const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 500 }),
  // a vote request whose height field (vote field 2) is out of range
  badVarint.map((v) => {
    const n = v as readonly number[];
    return Uint8Array.from([0x1a, n.length + 6, 0x0a, n.length + 4, 0x08, 0x01, 0x10, ...n, 0x18, 0x00]);
  }),
  // a length that runs past the end
  fc.nat(15).map((f) => Uint8Array.from([(f << 3) | 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])),
  // nested length-delimited fields, deeper than any real message
  fc.integer({ min: 50, max: 400 }).map((d) => {
    let inner: number[] = [];
    for (let i = 0; i < d; i++) inner = [0x1a, ...varint(BigInt(inner.length)), ...inner];
    return Uint8Array.from(inner);
  }),
  // start-group tags (deprecated wire type 3), never ended
  fc.integer({ min: 100, max: 20_000 }).map((d) => new Uint8Array(d).fill(0x0b)),
);

const RESPONSE_OF: Partial<Record<PrivvalMessage["kind"], PrivvalMessage["kind"]>> = {
  pubKeyRequest: "pubKeyResponse",
  signVoteRequest: "signedVoteResponse",
  signProposalRequest: "signedProposalResponse",
  pingRequest: "pingResponse",
  signBytesRequest: "signBytesResponse",
};

async function signState(): Promise<string> {
  return ts.store.tx(
    async (tx) =>
      JSON.stringify(await tx.all("SELECT * FROM cometbft_sign_state"), (_k, v) =>
        typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
      ),
    { readOnly: true },
  );
}

function typedOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CometWireError)) throw e;
  }
}

describe(`privval decoder and handler fuzz (seed ${SEED}, ${RUNS} runs)`, () => {
  beforeAll(async () => {
    ts = await openTestStore("sqlite");
    protection = new CometBftProtection({}, { store: ts.store, logger: nullLogger });
    handler = new RequestHandler(
      { chainId: CHAIN_ID, pubKeyLayout: "both" },
      { key: testKey("privval-fuzz"), signer: protection },
    );
    console.log(`privval fuzz seed ${SEED} (SLASHGUARD_FUZZ_SEED + 2), ${RUNS} runs (SLASHGUARD_FUZZ_RUNS)`);
  });
  afterAll(async () => {
    await protection?.close();
    await ts?.dispose();
  });

  it("decoders fail typed; every decoded request is answered in kind; refusals write nothing", async () => {
    const rss0 = process.memoryUsage().rss;
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 2, arbitrary: hostile }),
        async (bytes) => {
          typedOnly(() => readDelimited(bytes, 1 << 20));
          typedOnly(() => decodeCanonical(bytes));
          let msg: PrivvalMessage;
          try {
            msg = decodePrivvalMessage(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(CometWireError);
            outcomes.set("decode refused", (outcomes.get("decode refused") ?? 0) + 1);
            return;
          }
          const before = await signState();
          const h = await handler.handle(msg);
          const key = `${msg.kind} ${h.outcome}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          const expected = RESPONSE_OF[msg.kind] ?? "empty";
          expect(h.response.kind, key).toBe(expected);
          // the answer goes back on the wire: it must encode
          encodePrivvalMessage(h.response);
          if (h.outcome !== "ok") expect(await signState(), key).toBe(before);
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 << 20);
    console.log(
      [...outcomes.entries()]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join("\n"),
    );
  });
});
