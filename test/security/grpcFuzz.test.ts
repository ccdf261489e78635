import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtoWriter, WireType } from "../../src/chains/cometbft/protobuf.js";
import { RemoteKeystoreHandlers } from "../../src/grpc/handlers.js";
import { SubstrateGrpcServer } from "../../src/grpc/server.js";
import { cryptoReady } from "../../src/keys/substrate/keyPair.js";
import { SubstrateKeystore } from "../../src/keys/substrate/keystore.js";
import { SubstrateProtection } from "../../src/protection/substrate/substrateProtection.js";
import { nullLogger } from "../../src/util/logger.js";
import { openTestStore, type TestStore, tempDir } from "../utils/stores.js";
import { SUBSTRATE_SIGNER_NEEDS, writeVectorKeystore } from "../utils/substrateSigner.js";
import { withVectors } from "../utils/vectors.js";
import { fuzzRuns, fuzzSeed, TWO_64 } from "./fuzzInputs.js";

/**
 * Issue 15, "keep probing": the Substrate remote keystore (gRPC, substrate-remote-keystore.proto) fed raw
 * bytes and mutated requests: random bytes, cut and flipped messages, over-long and 2^64+ varints,
 * deeply nested groups, oversized frames, non-canonical numbers and wrong-sized hashes in the payload.
 * Every call must end with a status the node can act on: OK (the reply carries the error), INVALID_ARGUMENT,
 * RESOURCE_EXHAUSTED, or the decoder's refusal (INTERNAL "Error deserializing request"); never the handler's
 * untyped INTERNAL, never a crash. No signature is recorded: the protection tables stay empty.
 * GenerateNew and Insert are left out: they write key files by design.
 */
const RUNS = fuzzRuns(1000);
const SEED = fuzzSeed() + 1;
const MAX_MESSAGE = 1 << 20;
const PKG = "/parity.polkadot.signer";
const METHODS = [
  "RemoteKeystore/SignWith",
  "RemoteKeystore/SignWithAny",
  "RemoteKeystore/SignWithAll",
  "RemoteKeystore/Sr25519VrfSign",
  "RemoteKeystore/Sr25519PublicKeys",
  "RemoteKeystore/Ed25519PublicKeys",
  "RemoteKeystore/EcdsaPublicKeys",
  "RemoteKeystoreV2/SignWith",
  "RemoteKeystoreV2/HasKeys",
  "RemoteKeystoreV2/Keys",
  "RemoteKeystoreV2/EcdsaSignPrehashed",
] as const;

let ts: TestStore;
let protection: SubstrateProtection;
let server: SubstrateGrpcServer;
let client: grpc.Client;
/** [key type, public key] of the vector keystore. */
let keys: [string, Uint8Array][] = [];
const work = tempDir("sg-grpc-fuzz-");

function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** A payload with one member that payloadView must refuse (the signature must never be made). */
const badPayload = fc.oneof(
  fc
    .constantFrom("05", "-1", "+1", "0x10", TWO_64, "", " 1", "1e3")
    .map(
      (n) => (w: ProtoWriter) =>
        w.message(104, (b) => b.bytes(1, new Uint8Array(32)).string(2, n).bytes(3, new Uint8Array(32))),
    ),
  fc.record({ hash: fc.nat(64), num: fc.constantFrom(0, 1, 3, 5, 9, 16), stage: fc.constantFrom(100, 101, 102) }).map(
    ({ hash, num, stage }) =>
      (w: ProtoWriter) =>
        w.message(105, (g) =>
          g
            .message(stage, (t) => t.bytes(1, new Uint8Array(hash === 32 ? 31 : hash)).bytes(2, new Uint8Array(num)))
            .varint(1, 1n)
            .varint(2, 0n),
        ),
  ),
  fc.constant((w: ProtoWriter) => w.message(105, (g) => g.varint(1, 1n))), // no stage
  fc.record({ n: fc.nat(64), field: fc.constantFrom(102, 103) }).map(
    ({ n, field }) =>
      (w: ProtoWriter) =>
        w.message(field, (v) => v.bytes(1, new Uint8Array(n === 32 ? 33 : n))),
  ),
);

/** A request that looks right (real key type, key and crypto) around a message that must not be signed. */
const structured = fc
  .record({
    key: fc.nat(),
    crypto: fc.constantFrom("sr25519", "ed25519", "ecdsa", "rsa", ""),
    keyType: fc.option(fc.constantFrom("babe", "gran", "para", "beef", "acco", "xx", "babebabe"), { nil: undefined }),
    message: fc.uint8Array({ maxLength: 300 }),
    payload: badPayload,
    many: fc.boolean(),
  })
  .map((r) => {
    const [kt, pk] = keys[r.key % keys.length]!;
    const w = new ProtoWriter().string(1, r.keyType ?? kt).string(2, r.crypto);
    if (r.many) w.bytes(3, pk).bytes(3, pk);
    else w.bytes(3, pk);
    w.bytes(4, r.message);
    return w.message(5, (p) => r.payload(p)).finish();
  });

/** Bytes a protobuf decoder must refuse or read without harm. */
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  // over-long and out-of-range varints in every field number of the requests
  fc
    .record({ field: fc.integer({ min: 1, max: 6 }), extra: fc.nat(12) })
    .map(({ field, extra }) =>
      Uint8Array.from([
        ...varintBytes(BigInt((field << 3) | WireType.Varint)),
        ...Array(extra).fill(0x80),
        ...varintBytes(2n ** 64n + 5n),
      ]),
    ),
  // a length that runs past the end
  fc.nat(6).map((f) => Uint8Array.from([(f << 3) | WireType.Len, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])),
  // groups nested deeper than any stack (start-group tags, never ended)
  fc.integer({ min: 1000, max: 200_000 }).map((d) => new Uint8Array(d).fill((1 << 3) | 3)),
  // messages nested in length-delimited fields
  fc.integer({ min: 100, max: 5000 }).map((d) => {
    let inner: Uint8Array = new Uint8Array();
    for (let i = 0; i < d; i++) inner = new ProtoWriter().bytes(5, inner).finish();
    return inner;
  }),
  fc.constant(new Uint8Array(MAX_MESSAGE + 10)),
);

const input = fc.oneof(
  { weight: 2, arbitrary: structured },
  {
    weight: 2,
    arbitrary: structured
      .chain((b) => fc.tuple(fc.constant(b), fc.nat(), fc.nat(255), fc.boolean()))
      .map(([b, at, v, cut]) => {
        const out = new Uint8Array(b);
        if (out.length === 0) return out;
        out[at % out.length] = v;
        return cut ? out.subarray(0, at % out.length) : out;
      }),
  },
  { weight: 3, arbitrary: hostile },
);

function callRaw(method: string, body: Uint8Array): Promise<{ code: number; details: string; reply: Buffer | null }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `${PKG}.${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      new grpc.Metadata(),
      { deadline: Date.now() + 15_000 },
      (err: grpc.ServiceError | null, reply?: Buffer) =>
        resolve(
          err === null
            ? { code: grpc.status.OK, details: "", reply: reply ?? null }
            : { code: err.code, details: err.details, reply: null },
        ),
    );
  });
}

async function protectionRows(): Promise<Record<string, number>> {
  return ts.store.tx(
    async (tx) => {
      const out: Record<string, number> = {};
      for (const t of [
        "substrate_babe_blocks",
        "substrate_grandpa_votes",
        "substrate_grandpa_proposals",
        "substrate_para_votes",
        "substrate_beefy_votes",
      ])
        out[t] = Number((await tx.all(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
      return out;
    },
    { readOnly: true },
  );
}

withVectors("gRPC remote keystore fuzz", SUBSTRATE_SIGNER_NEEDS, () => {
  describe(`gRPC remote keystore fuzz (seed ${SEED}, ${RUNS} runs)`, () => {
    beforeAll(async () => {
      await cryptoReady();
      const ks = join(work.dir, "ks");
      mkdirSync(ks);
      writeVectorKeystore(ks);
      keys = readdirSync(ks).map((f) => [Buffer.from(f.slice(0, 8), "hex").toString(), Buffer.from(f.slice(8), "hex")]);
      ts = await openTestStore("sqlite");
      protection = new SubstrateProtection({}, { store: ts.store, logger: nullLogger });
      const handlers = new RemoteKeystoreHandlers(
        { maxMessageBytes: MAX_MESSAGE, requirePayload: () => true },
        { keystore: SubstrateKeystore.open(ks), protection, logger: nullLogger },
      );
      server = await SubstrateGrpcServer.start(
        {
          host: "127.0.0.1",
          port: 0,
          tls: null,
          allowClients: [],
          allowPlaintextRemote: false,
          maxMessageBytes: MAX_MESSAGE,
        },
        { handlers, logger: nullLogger, metrics: null },
      );
      client = new grpc.Client(server.address, grpc.credentials.createInsecure());
      console.log(`gRPC fuzz seed ${SEED} (SLASHGUARD_FUZZ_SEED + 1), ${RUNS} runs (SLASHGUARD_FUZZ_RUNS)`);
    });
    afterAll(async () => {
      client?.close();
      await server?.stop(1000);
      await protection?.close();
      await ts?.dispose();
      work.cleanup();
    });

    it("findings of this fuzz: no public_key, and a key type of raw bytes, are typed refusals", async () => {
      // SignWith without public_key threw a TypeError (INTERNAL)
      for (const method of ["RemoteKeystore/SignWith", "RemoteKeystoreV2/SignWith"]) {
        const body = new ProtoWriter().string(1, "gran").string(2, "ed25519").bytes(4, new Uint8Array(53)).finish();
        expect([method, (await callRaw(method, body)).code]).toEqual([method, grpc.status.OK]);
      }
      // a key type of non-ASCII bytes went into the error trailer, Metadata.set threw, the call never answered
      // and the rejection was unhandled (a process crash outside tests)
      const keyType = new ProtoWriter().bytes(1, Uint8Array.of(0xd4, 0x35, 0x93, 0x15)).finish();
      const [, pk] = keys.find(([kt]) => kt === "beef")!;
      const body = Buffer.concat([keyType, new ProtoWriter().bytes(2, pk).bytes(3, new Uint8Array(32)).finish()]);
      const r = await callRaw("RemoteKeystoreV2/EcdsaSignPrehashed", body);
      expect(r.code).toBe(grpc.status.OK);
    });

    it("every call ends with a typed status; nothing is signed or recorded; memory stays bounded", async () => {
      const before = await protectionRows();
      const rss0 = process.memoryUsage().rss;
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...METHODS), input, async (method, body) => {
          const r = await callRaw(method, body);
          const what = `${method} ${body.length} bytes -> ${grpc.status[r.code]} ${r.details}`;
          const key = `${method} ${grpc.status[r.code]}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
          if (r.code === grpc.status.INTERNAL) expect(r.details, what).toMatch(/^Error deserializing request/);
          else
            expect([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED], what).toContain(
              r.code,
            );
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      // still serving
      const ok = await callRaw("RemoteKeystoreV2/Keys", new ProtoWriter().string(1, "babe").finish());
      expect(ok.code).toBe(grpc.status.OK);
      expect(await protectionRows()).toEqual(before);
      // a held key is bound to its key type on first use (one key type per public key), even when the
      // request is then refused: only the keystore's own keys may appear there
      const bound = await ts.store.tx((tx) => tx.all("SELECT count(*) AS n FROM substrate_keys"), { readOnly: true });
      expect(Number(bound[0]!.n)).toBeLessThanOrEqual(keys.length);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(256 << 20);
      console.log(
        [...seen.entries()]
          .sort()
          .map(([k, n]) => `${k}: ${n}`)
          .join("\n"),
      );
    });
  });
});
