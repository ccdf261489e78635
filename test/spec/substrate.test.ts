import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cryptoWaitReady, signatureVerify } from "@polkadot/util-crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { babePreDigestOf, blake2_256, checkBabeSeal, encodeHeader } from "../../src/chains/substrate/babe.js";
import { classifySignRequest } from "../../src/chains/substrate/classify.js";
import { decodeGrandpaPayload, encodeGrandpaPayload } from "../../src/chains/substrate/grandpa.js";
import { type CryptoType, GRANDPA_STAGE_NAMES } from "../../src/chains/substrate/types.js";
import { cryptoReady, pairFromSuri } from "../../src/keys/substrate/keyPair.js";
import { SubstrateKeystore } from "../../src/keys/substrate/keystore.js";
import { SubstrateProtection } from "../../src/protection/substrate/substrateProtection.js";
import { nullLogger } from "../../src/util/logger.js";
import { ENGINES, openTestStore } from "../utils/stores.js";
import {
  type BlockProposalJson,
  bytesToHex,
  DEV_ALICE,
  fakeKey,
  hexToBytes,
  proposalFromJson,
} from "../utils/substrate.js";
import { loadVector, withVectors } from "../utils/vectors.js";

interface KeysVector {
  keys: { crypto_type: CryptoType; suri: string; description: string; public_key: string }[];
  keystore_files: {
    key_type: string;
    crypto_type: CryptoType;
    suri: string;
    file_name: string;
    file_content: string;
  }[];
}
interface SignaturesVector {
  signatures: {
    crypto_type: CryptoType;
    public_key: string;
    message: string;
    signature: string;
    deterministic: boolean;
  }[];
}
interface GrandpaVector {
  cases: {
    stage: string;
    target_hash: string;
    target_number: string;
    round: string;
    set_id: string;
    payload: string;
    signer_public_key: string;
    signature: string;
  }[];
}
interface BabeVector {
  cases: {
    pre_digest_kind: string;
    authority_index: number;
    slot: string;
    block_proposal: BlockProposalJson;
    header_scale: string;
    pre_hash: string;
    seal_signer_public_key: string;
    seal_signature_example: string;
  }[];
}
interface RulesVector {
  cases: {
    name: string;
    key_type: string;
    steps: { message: string; block_proposal?: BlockProposalJson; allowed: boolean }[];
  }[];
}

beforeAll(async () => {
  await cryptoReady();
  await cryptoWaitReady();
});

withVectors("substrate vectors", { vectors: ["substrate"] }, () => {
  const keys = loadVector<KeysVector>("substrate/keys.json");
  const signatures = loadVector<SignaturesVector>("substrate/signatures.json");
  const grandpa = loadVector<GrandpaVector>("substrate/grandpa_payloads.json");
  const babe = loadVector<BabeVector>("substrate/babe_headers.json");
  const rules = loadVector<RulesVector>("substrate/protection_rules.json");

  describe("substrate vectors: keys", () => {
    it.each(keys.keys.map((k) => [`${k.crypto_type} ${k.description}`, k] as const))("%s", (_, k) => {
      expect(bytesToHex(pairFromSuri(k.crypto_type, k.suri).publicKey)).toBe(k.public_key);
    });

    it("reads keystore files named hex(key type) + hex(public key) holding the SURI as JSON", () => {
      const dir = mkdtempSync(join(tmpdir(), "sg-ks-"));
      try {
        for (const f of keys.keystore_files) writeFileSync(join(dir, f.file_name), f.file_content);
        writeFileSync(join(dir, "not-a-key.txt"), "ignored");
        const ks = SubstrateKeystore.open(dir);
        expect(ks.size).toBe(keys.keystore_files.length);
        for (const f of keys.keystore_files) {
          const pub = hexToBytes(f.file_name.slice(8));
          expect(ks.has(f.key_type, f.crypto_type, pub)).toBe(true);
          expect(Buffer.from(f.key_type).toString("hex")).toBe(f.file_name.slice(0, 8));
        }
        // a generated key lands beside them in the same format, mode 0600
        const k = ks.generate("gran", "ed25519");
        const file = join(dir, `6772616e${Buffer.from(k.publicKey).toString("hex")}`);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const suri = JSON.parse(readFileSync(file, "utf8")) as string;
        expect(bytesToHex(pairFromSuri("ed25519", suri).publicKey)).toBe(bytesToHex(k.publicKey));
        expect(SubstrateKeystore.open(dir).size).toBe(keys.keystore_files.length + 1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("substrate vectors: signatures", () => {
    it.each(signatures.signatures.map((s) => [s.crypto_type, s] as const))("%s", (crypto, s) => {
      const pair = pairFromSuri(crypto, DEV_ALICE);
      expect(bytesToHex(pair.publicKey)).toBe(s.public_key);
      const msg = hexToBytes(s.message);
      const sig = pair.sign(msg);
      if (s.deterministic) expect(bytesToHex(sig)).toBe(s.signature);
      // independent verifier: @polkadot/util-crypto
      expect(signatureVerify(msg, sig, s.public_key).isValid).toBe(true);
      expect(signatureVerify(msg, hexToBytes(s.signature), s.public_key).isValid).toBe(true);
    });
  });

  describe("substrate vectors: GRANDPA payloads", () => {
    it.each(grandpa.cases.map((c) => [`${c.stage} round ${c.round} set ${c.set_id}`, c] as const))("%s", (_, c) => {
      const rec = decodeGrandpaPayload(hexToBytes(c.payload));
      expect(GRANDPA_STAGE_NAMES[rec.stage].replace("_", "")).toBe(c.stage.toLowerCase());
      expect(bytesToHex(rec.targetHash!)).toBe(c.target_hash);
      expect(rec.targetNumber).toBe(BigInt(c.target_number));
      expect(rec.round).toBe(BigInt(c.round));
      expect(rec.setId).toBe(BigInt(c.set_id));
      expect(bytesToHex(encodeGrandpaPayload(rec))).toBe(c.payload);
      const sig = pairFromSuri("ed25519", DEV_ALICE).sign(hexToBytes(c.payload));
      expect(bytesToHex(sig)).toBe(c.signature);
    });
  });

  describe("substrate vectors: BABE headers", () => {
    it.each(babe.cases.map((c) => [c.pre_digest_kind, c] as const))("%s", (_, c) => {
      const p = proposalFromJson(c.block_proposal);
      expect(bytesToHex(encodeHeader(p))).toBe(c.header_scale);
      expect(bytesToHex(blake2_256(encodeHeader(p)))).toBe(c.pre_hash);
      const seal = checkBabeSeal(hexToBytes(c.pre_hash), p);
      expect(seal.slot).toBe(BigInt(c.slot));
      expect(seal.authorityIndex).toBe(c.authority_index);
      expect(babePreDigestOf(p.digest).slot).toBe(BigInt(c.slot));
      const sig = pairFromSuri("sr25519", DEV_ALICE).sign(hexToBytes(c.pre_hash));
      expect(signatureVerify(hexToBytes(c.pre_hash), sig, c.seal_signer_public_key).isValid).toBe(true);
      expect(
        signatureVerify(hexToBytes(c.pre_hash), hexToBytes(c.seal_signature_example), c.seal_signer_public_key).isValid,
      ).toBe(true);
    });
  });

  describe.each(ENGINES)("substrate vectors: protection rules on %s", (engine) => {
    let ts: Awaited<ReturnType<typeof openTestStore>>;
    let p: SubstrateProtection;
    beforeAll(async () => {
      ts = await openTestStore(engine);
      p = new SubstrateProtection({}, { store: ts.store, logger: nullLogger });
    });
    afterAll(async () => {
      await p.close();
      await ts.dispose();
    });

    /** Every record of every Substrate table: a refused step must leave this unchanged. */
    const recordCount = (): Promise<number> =>
      ts.store.tx(async (tx) => {
        let n = 0;
        for (const t of [
          "substrate_grandpa_votes",
          "substrate_grandpa_proposals",
          "substrate_babe_blocks",
          "substrate_para_votes",
          "substrate_beefy_votes",
        ]) {
          n += Number((await tx.all(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
        }
        return n;
      });

    it.each(rules.cases.map((c, i) => [c.name, c, i] as const))("%s", async (_, c, i) => {
      const publicKey = fakeKey(i);
      for (const [n, step] of c.steps.entries()) {
        const before = await recordCount();
        const payload =
          step.block_proposal === undefined ? null : { blockProposal: proposalFromJson(step.block_proposal) };
        let allowed: boolean;
        try {
          const records = classifySignRequest(c.key_type, hexToBytes(step.message), payload, {
            requirePayload: true,
          });
          if (records.length > 0) await p.checkAndRecord({ keyType: c.key_type, publicKey, records });
          allowed = true;
        } catch (e) {
          expect((e as { code?: string }).code, `step ${n}`).toMatch(/^ERR_SUBSTRATE_/);
          allowed = false;
        }
        expect(allowed, `step ${n}`).toBe(step.allowed);
        if (!step.allowed) expect(await recordCount(), `step ${n} recorded nothing`).toBe(before);
      }
    });
  });
});
