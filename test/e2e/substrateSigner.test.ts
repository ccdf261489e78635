import { statSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { cryptoWaitReady, signatureVerify } from "@polkadot/util-crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeGrandpaPayload } from "../../src/chains/substrate/grandpa.js";
import { GrandpaStage } from "../../src/chains/substrate/types.js";
import { vrfVerify } from "../../src/keys/substrate/vrf.js";
import { openStore } from "../../src/store/openStore.js";
import { freshStoreUrl, HAS_PG, tempDir } from "../utils/stores.js";
import { hexToBytes, sealRequest } from "../utils/substrate.js";
import {
  call,
  type KeystoreClient,
  keystoreClient,
  OUR_PROTO,
  type SignerProcess,
  SUBSTRATE_SIGNER_NEEDS,
  startSignerProcess,
  writeVectorKeystore,
} from "../utils/substrateSigner.js";
import { withVectors } from "../utils/vectors.js";

const GRAN = hexToBytes("0x88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee");
const BABE = hexToBytes("0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
const BEEF = hexToBytes("0x020a1091341fe5664bfa1782d5e04779689068c916b04cb365ec3153755684d9a1");
const VALIDATION_ERROR = 3;
const PAIR_NOT_FOUND = 2;
const KEY_NOT_SUPPORTED = 1;

const prevote = (target: number, round = 10n, setId = 3n): Uint8Array =>
  encodeGrandpaPayload({
    stage: GrandpaStage.Prevote,
    targetHash: new Uint8Array(32).fill(target),
    targetNumber: BigInt(100 + target),
    round,
    setId,
  });

const signGran = (c: KeystoreClient, message: Uint8Array) =>
  call(c, "SignWith", {
    key_type: "gran",
    crypto_type: "ed25519",
    public_key: Buffer.from(GRAN),
    message: Buffer.from(message),
  });

function signature(r: Awaited<ReturnType<typeof call>>): { sig: Buffer; error: number; code: string | null } {
  if ("error" in r) throw r.error;
  const s = r.reply.signature as { signature: Buffer; error: number };
  return { sig: s.signature, error: s.error, code: r.code };
}

async function countRows(dbUrl: string, table: string): Promise<number> {
  const store = await openStore(dbUrl);
  try {
    return await store.tx(async (tx) => Number((await tx.all(`SELECT count(*) AS n FROM ${table}`))[0]!.n), {
      readOnly: true,
    });
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  await cryptoWaitReady();
});

withVectors("substrate signer processes", SUBSTRATE_SIGNER_NEEDS, () => {
  describe("substrate signer over gRPC (SQLite)", () => {
    const work = tempDir("sg-sub-e2e-");
    const ks = join(work.dir, "keystore");
    let db: { url: string; cleanup: () => Promise<void> };
    let signer: SignerProcess;
    const clients: KeystoreClient[] = [];
    const client = (proto?: string, service?: string): KeystoreClient => {
      const c = keystoreClient(signer.grpcAddress, proto, service);
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      statSync(work.dir);
      await import("node:fs").then((fs) => fs.mkdirSync(ks));
      writeVectorKeystore(ks);
      db = await freshStoreUrl("sqlite");
      signer = await startSignerProcess({ dbUrl: db.url, keystore: ks, workDir: work.dir });
    });
    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
    });
    afterAll(async () => {
      await signer?.stop();
      await db?.cleanup();
      work.cleanup();
    });

    it("lists and generates keys with a client built from the proposal's proto", async () => {
      const c = client();
      const ed = await call(c, "Ed25519PublicKeys", { key_type: "gran" });
      expect("reply" in ed && (ed.reply.public_keys as Buffer[]).map((k) => k.toString("hex"))).toEqual([
        Buffer.from(GRAN).toString("hex"),
      ]);
      const ec = await call(c, "EcdsaPublicKeys", { key_type: "beef" });
      expect("reply" in ec && (ec.reply.public_keys as Buffer[])[0]!.equals(Buffer.from(BEEF))).toBe(true);
      const gen = await call(c, "Sr25519GenerateNew", { key_type: "audi" });
      if (!("reply" in gen)) throw gen.error;
      const pub = gen.reply.public_key as Buffer;
      expect(pub).toHaveLength(32);
      expect(statSync(join(ks, `61756469${pub.toString("hex")}`)).mode & 0o777).toBe(0o600);
      const listed = await call(c, "Sr25519PublicKeys", { key_type: "audi" });
      expect("reply" in listed && (listed.reply.public_keys as Buffer[]).some((k) => k.equals(pub))).toBe(true);
    });

    it("GRANDPA: 50 concurrent clients sending conflicting prevotes get exactly one signature", async () => {
      const cs = Array.from({ length: 50 }, () => client());
      const res = (await Promise.all(cs.map((c, i) => signGran(c, prevote(i + 1))))).map(signature);
      const won = res.filter((r) => r.sig.length === 64);
      expect(won).toHaveLength(1);
      expect(
        res.filter((r) => r.error === VALIDATION_ERROR && r.code === "ERR_SUBSTRATE_GRANDPA_EQUIVOCATION"),
      ).toHaveLength(49);
      const winner = res.findIndex((r) => r.sig.length === 64);
      expect(signatureVerify(prevote(winner + 1), won[0]!.sig, GRAN).isValid).toBe(true);
      // the identical vote is signed again (a restarted voter re-signs), the precommit of that round is separate
      expect(signature(await signGran(cs[0]!, prevote(winner + 1))).sig).toHaveLength(64);
      const precommit = encodeGrandpaPayload({
        stage: GrandpaStage.Precommit,
        targetHash: new Uint8Array(32).fill(99),
        targetNumber: 1n,
        round: 10n,
        setId: 3n,
      });
      expect(signature(await signGran(cs[0]!, precommit)).sig).toHaveLength(64);
    });

    it("BABE: 50 concurrent clients sealing different headers for one slot get exactly one signature", async () => {
      const cs = Array.from({ length: 50 }, () => client(OUR_PROTO));
      const reqs = cs.map((_, i) => sealRequest(777n, i + 1));
      const rs = await Promise.all(
        cs.map((c, i) =>
          call(c, "SignWith", {
            key_type: "babe",
            crypto_type: "sr25519",
            public_key: Buffer.from(BABE),
            message: reqs[i]!.message,
            payload: reqs[i]!.payload,
          }),
        ),
      );
      const res = rs.map(signature);
      expect(res.filter((r) => r.sig.length === 64)).toHaveLength(1);
      expect(res.filter((r) => r.code === "ERR_SUBSTRATE_BABE_EQUIVOCATION")).toHaveLength(49);
      const i = res.findIndex((r) => r.sig.length === 64);
      expect(signatureVerify(reqs[i]!.message, res[i]!.sig, BABE).isValid).toBe(true);
    });

    it("BABE: a seal without its block proposal is refused (ERR_SUBSTRATE_NO_PAYLOAD), and records nothing", async () => {
      const c = client();
      const { message } = sealRequest(900n, 1);
      const r = signature(
        await call(c, "SignWith", { key_type: "babe", crypto_type: "sr25519", public_key: Buffer.from(BABE), message }),
      );
      expect(r).toMatchObject({ error: VALIDATION_ERROR, code: "ERR_SUBSTRATE_NO_PAYLOAD" });
      expect(r.sig).toHaveLength(0);
    });

    it("VRF: unknown keys answer PAIR_NOT_FOUND; our key gives a VRF that verifies for BABE's transcript", async () => {
      const c = client();
      const transcript = {
        label: "BABE",
        values: [{ uint64_value: "291234567" }, { uint64_value: "1200" }, { bytes_value: Buffer.alloc(32, 9) }],
      };
      const unknown = await call(c, "Sr25519VrfSign", {
        key_type: "babe",
        public_key: Buffer.alloc(32, 1),
        transcript_data: transcript,
      });
      expect("reply" in unknown && unknown.reply.error).toBe(PAIR_NOT_FOUND);
      const mine = await call(c, "Sr25519VrfSign", {
        key_type: "babe",
        public_key: Buffer.from(BABE),
        transcript_data: transcript,
      });
      if (!("reply" in mine)) throw mine.error;
      const s = mine.reply.signature as { output: Buffer; challenge: Buffer; proof: Buffer };
      const u64 = (v: bigint): Uint8Array => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, v, true);
        return b;
      };
      const spec = {
        label: "BABE",
        items: [
          { label: "slot number", value: u64(291234567n) },
          { label: "current epoch", value: u64(1200n) },
          { label: "chain randomness", value: new Uint8Array(32).fill(9) },
        ],
      };
      expect(vrfVerify(BABE, spec, { preOutput: s.output, challenge: s.challenge, proof: s.proof })).toBe(true);
    });

    it("bad input gets clear errors and records nothing", async () => {
      const c = client();
      const before = await countRows(db.url, "substrate_grandpa_votes");
      const bad = async (req: object) => signature(await call(c, "SignWith", req));
      const base = {
        key_type: "gran",
        crypto_type: "ed25519",
        public_key: Buffer.from(GRAN),
        message: Buffer.from(prevote(1, 500n)),
      };
      expect(await bad({ ...base, public_key: Buffer.alloc(31, 1) })).toMatchObject({
        error: VALIDATION_ERROR,
        code: "ERR_SUBSTRATE_KEY_LENGTH",
      });
      expect(await bad({ ...base, crypto_type: "bls381" })).toMatchObject({
        error: KEY_NOT_SUPPORTED,
        code: "ERR_SUBSTRATE_CRYPTO_TYPE",
      });
      expect(await bad({ ...base, key_type: "gr" })).toMatchObject({
        error: VALIDATION_ERROR,
        code: "ERR_SUBSTRATE_KEY_TYPE",
      });
      expect(await bad({ ...base, message: Buffer.from(prevote(1, 500n)).subarray(0, 40) })).toMatchObject({
        error: VALIDATION_ERROR,
        code: "ERR_SUBSTRATE_MALFORMED",
      });
      expect(await bad({ ...base, key_type: "xxxx" })).toMatchObject({ error: PAIR_NOT_FOUND });
      const huge = await call(c, "SignWith", { ...base, message: Buffer.alloc((1 << 20) + 1) });
      expect("error" in huge && huge.error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      const listBad = await call(c, "Ed25519PublicKeys", { key_type: "toolong" });
      expect("error" in listBad && listBad.error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(await countRows(db.url, "substrate_grandpa_votes")).toBe(before);
      // the round the bad requests named is still free
      expect((await bad(base)).sig).toHaveLength(64);
    });

    it("RemoteKeystoreV2: HasKeys, Keys, Insert and EcdsaSignPrehashed", async () => {
      const v2 = client(OUR_PROTO, "RemoteKeystoreV2");
      const has = await call(v2, "HasKeys", {
        keys: [
          { key_type: "gran", public_key: Buffer.from(GRAN) },
          { key_type: "babe", public_key: Buffer.from(BABE) },
        ],
      });
      expect("reply" in has && has.reply.has_all).toBe(true);
      const hasNot = await call(v2, "HasKeys", { keys: [{ key_type: "gran", public_key: Buffer.from(BABE) }] });
      expect("reply" in hasNot && hasNot.reply.has_all).toBe(false);
      const bob = hexToBytes("0xd17c2d7823ebf260fd138f2d7e27d114c0145d968b5ff5006125f2414fadae69");
      const ins = await call(v2, "Insert", { key_type: "gran", suri: "//Bob", public_key: Buffer.from(bob) });
      expect("reply" in ins && ins.reply.error).toBe(0);
      const wrong = await call(v2, "Insert", { key_type: "gran", suri: "//Charlie", public_key: Buffer.from(bob) });
      expect("reply" in wrong && wrong.reply.error).toBe(VALIDATION_ERROR);
      const keys = await call(v2, "Keys", { key_type: "gran" });
      expect("reply" in keys && (keys.reply.public_keys as Buffer[]).length).toBe(2);
      // BEEFY: the prehash alone is refused; with the commitment it is protected per (set id, block number)
      const commitment = (root: number): Buffer =>
        Buffer.concat([
          Buffer.from([0x04, 0x6d, 0x68, 0x80]),
          Buffer.alloc(32, root),
          Buffer.from([100, 0, 0, 0]),
          Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]),
        ]);
      const vote = (root: number, withPayload = true) =>
        call(v2, "EcdsaSignPrehashed", {
          key_type: "beef",
          public_key: Buffer.from(BEEF),
          prehash: Buffer.from(keccak_256(commitment(root))),
          ...(withPayload ? { payload: { beefy_commitment: commitment(root) } } : {}),
        });
      expect(signature(await vote(1, false))).toMatchObject({
        error: VALIDATION_ERROR,
        code: "ERR_SUBSTRATE_NO_PAYLOAD",
      });
      const first = signature(await vote(1));
      expect(first.sig).toHaveLength(65);
      expect(signature(await vote(1)).sig).toHaveLength(65);
      expect(signature(await vote(2))).toMatchObject({
        error: VALIDATION_ERROR,
        code: "ERR_SUBSTRATE_BEEFY_DOUBLE_VOTE",
      });
    });
  });

  describe("substrate signer durability (SQLite)", () => {
    it("SIGKILL right after a signature: after restart the conflicting vote is refused", async () => {
      const work = tempDir("sg-sub-kill-");
      const ks = join(work.dir, "keystore");
      (await import("node:fs")).mkdirSync(ks);
      writeVectorKeystore(ks);
      const db = await freshStoreUrl("sqlite");
      try {
        const first = await startSignerProcess({ dbUrl: db.url, keystore: ks, workDir: work.dir });
        const c1 = keystoreClient(first.grpcAddress);
        const r = await new Promise<Buffer>((resolve, reject) => {
          c1.SignWith!(
            {
              key_type: "gran",
              crypto_type: "ed25519",
              public_key: Buffer.from(GRAN),
              message: Buffer.from(prevote(1, 42n)),
            },
            (err, res) => {
              first.proc.kill("SIGKILL"); // the very moment the answer arrives
              if (err) reject(err);
              else resolve((res.signature as { signature: Buffer }).signature);
            },
          );
        });
        expect(r).toHaveLength(64);
        await first.exited;
        c1.close();
        const second = await startSignerProcess({ dbUrl: db.url, keystore: ks, workDir: work.dir });
        const c2 = keystoreClient(second.grpcAddress);
        try {
          expect(signature(await signGran(c2, prevote(2, 42n)))).toMatchObject({
            code: "ERR_SUBSTRATE_GRANDPA_EQUIVOCATION",
          });
          expect(signature(await signGran(c2, prevote(1, 42n))).sig).toHaveLength(64);
        } finally {
          c2.close();
          await second.stop();
        }
      } finally {
        await db.cleanup();
        work.cleanup();
      }
    });
  });

  describe.skipIf(!HAS_PG)("substrate signer: three processes on one PostgreSQL", () => {
    it("race for one (set, round, stage): exactly one signature in total", async () => {
      const work = tempDir("sg-sub-pg-");
      const ks = join(work.dir, "keystore");
      (await import("node:fs")).mkdirSync(ks);
      writeVectorKeystore(ks);
      const db = await freshStoreUrl("postgres");
      const signers: SignerProcess[] = [];
      const cs: KeystoreClient[] = [];
      try {
        for (let i = 0; i < 3; i++)
          signers.push(await startSignerProcess({ dbUrl: db.url, keystore: ks, workDir: work.dir }));
        for (const s of signers) for (let j = 0; j < 10; j++) cs.push(keystoreClient(s.grpcAddress));
        const res = (await Promise.all(cs.map((c, i) => signGran(c, prevote(i + 1, 7n, 11n))))).map(signature);
        expect(res.filter((r) => r.sig.length === 64)).toHaveLength(1);
        expect(res.filter((r) => r.code === "ERR_SUBSTRATE_GRANDPA_EQUIVOCATION")).toHaveLength(cs.length - 1);
        expect(await countRows(db.url, "substrate_grandpa_votes")).toBe(1);
      } finally {
        for (const c of cs) c.close();
        for (const s of signers) await s.stop();
        await db.cleanup();
        work.cleanup();
      }
    });
  });
});
