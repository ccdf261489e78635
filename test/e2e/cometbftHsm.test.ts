import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHAIN_ID } from "../utils/comet.js";
import { runCli, type SignerProcess, startSigner, writeSignerConfig } from "../utils/cometSignerProcess.js";
import {
  FakeCometNode,
  type FakeVote,
  fakeExtensionSignBytes,
  fakeProposalSignBytes,
  fakeVoteSignBytes,
  randomBlock,
  requests,
  verifyEd25519,
} from "../utils/fakeCometNode.js";
import { HAS_SOFTHSM, markSoftHsmSkipped, type SoftHsm, softHsm, USER_PIN } from "../utils/softhsm.js";
import { tempDir } from "../utils/stores.js";

const TOKEN = "validator-hsm";
const T = { seconds: 1_750_000_000n, nanos: 7 };
const prevote = (height: bigint, block = randomBlock()): FakeVote => ({
  type: 1,
  height,
  round: 0,
  block,
  timestamp: T,
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

markSoftHsmSkipped("CometBFT signer with its key in SoftHSM");

describe.skipIf(!HAS_SOFTHSM)("slashguard signer, CometBFT key in a PKCS#11 token (SoftHSM2, fake nodes)", () => {
  const work = tempDir("sg-comet-hsm-");
  let hsm: SoftHsm;
  /** The public key as the token shows it (`keys hsm generate`'s last line, checked against `keys hsm list`). */
  let publicKey: Uint8Array;
  const nodes: FakeCometNode[] = [];
  const signers: SignerProcess[] = [];
  let n = 0;

  beforeAll(async () => {
    hsm = softHsm(work.dir);
    hsm.initToken(TOKEN);
    const target = ["--module", hsm.module, "--token-label", TOKEN, "--pin-file", hsm.pinFile];
    const gen = await runCli(["keys", "hsm", "generate", ...target, "--label", "consensus"]);
    expect(gen.code).toBe(0);
    const last = gen.stdout.trimEnd().split("\n").at(-1)!;
    expect(last).toMatch(/^[0-9a-f]{64}$/);
    const list = await runCli(["keys", "hsm", "list", ...target]);
    expect(list.stdout).toContain(`${last} label="consensus"`);
    publicKey = new Uint8Array(Buffer.from(last, "hex"));
  });
  afterEach(async () => {
    for (const s of signers.splice(0)) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.kill();
    for (const x of nodes.splice(0)) await x.close();
  });
  afterAll(() => work.cleanup());

  const node = async (): Promise<FakeCometNode> => {
    const x = await FakeCometNode.listen();
    nodes.push(x);
    return x;
  };
  /** A signer with a fresh store (so heights start over), its key in the token. */
  const signer = async (addrs: string[]): Promise<SignerProcess> => {
    const name = `s${n++}`;
    const cfg = writeSignerConfig({
      dir: work.dir,
      name,
      chainId: CHAIN_ID,
      keyFile: { module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile, keyLabel: "consensus" },
      nodes: addrs,
    });
    const s = await startSigner([
      "--config",
      cfg.main,
      "--cometbft-config",
      cfg.comet,
      "--db",
      `sqlite:${join(work.dir, `${name}.db`)}`,
    ]);
    signers.push(s);
    return s;
  };
  const health = async (
    s: SignerProcess,
  ): Promise<{ status: number; body: { checks: Record<string, { ok: boolean; detail?: string }> } }> => {
    const r = await fetch(`${s.url}/healthcheck`);
    return { status: r.status, body: (await r.json()) as { checks: Record<string, { ok: boolean; detail?: string }> } };
  };
  const hsmCheck = async (s: SignerProcess): Promise<{ ok: boolean; detail?: string } | undefined> =>
    Object.entries((await health(s)).body.checks).find(([k]) => k.includes("hsm:"))?.[1];

  it("votes (with extensions) and proposals across heights; signatures verify under the token's public key", async () => {
    const x = await node();
    const s = await signer([x.address]);
    expect((await x.request(requests.pubKey(CHAIN_ID))).pubKey).toEqual(publicKey);
    for (let h = 1n; h <= 10n; h++) {
      const block = randomBlock();
      const prop = { height: h, round: 0, polRound: -1, block, timestamp: T };
      const p = await x.request(requests.proposal(CHAIN_ID, prop));
      expect(verifyEd25519(publicKey, fakeProposalSignBytes(CHAIN_ID, prop), p.signature)).toBe(true);
      const pv = prevote(h, block);
      const rv = await x.request(requests.vote(CHAIN_ID, pv));
      expect(verifyEd25519(publicKey, fakeVoteSignBytes(CHAIN_ID, pv), rv.signature)).toBe(true);
      const pc: FakeVote = { ...pv, type: 2, extension: Buffer.from(`ext-${h}`) };
      const rc = await x.request(requests.vote(CHAIN_ID, pc));
      expect(verifyEd25519(publicKey, fakeVoteSignBytes(CHAIN_ID, pc), rc.signature)).toBe(true);
      expect(verifyEd25519(publicKey, fakeExtensionSignBytes(CHAIN_ID, pc), rc.extensionSignature)).toBe(true);
    }
    // protection is unchanged: a conflicting vote at a signed position gets no signature
    expect((await x.request(requests.vote(CHAIN_ID, prevote(10n)))).error?.code).toBe(2);
    expect((await health(s)).status).toBe(200);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/slashguard_hsm_up\{module="libsofthsm2\.so"\} 1/);
    expect(metrics).toMatch(/slashguard_hsm_sign_seconds_count\{module="libsofthsm2\.so"\} (\d+)/);
    // a clean stop: the module is finalised and its thread ends
    expect(await s.stop()).toBe(0);
  });

  it("two sentries send conflicting votes at once: exactly one signature per position; identical ones share it", async () => {
    const [a, b] = [await node(), await node()];
    await signer([a.address, b.address]);
    await Promise.all([a.waitForSigner(), b.waitForSigner()]);
    for (let h = 1n; h <= 10n; h++) {
      const [ra, rb] = await Promise.all([
        a.request(requests.vote(CHAIN_ID, prevote(h))),
        b.request(requests.vote(CHAIN_ID, prevote(h))),
      ]);
      expect([ra, rb].filter((r) => r.signature.length > 0)).toHaveLength(1);
      expect([ra, rb].filter((r) => r.error?.code === 2)).toHaveLength(1);
      const same: FakeVote = { ...prevote(h), type: 2 };
      const [sa, sb] = await Promise.all([
        a.request(requests.vote(CHAIN_ID, same)),
        b.request(requests.vote(CHAIN_ID, same)),
      ]);
      expect(verifyEd25519(publicKey, fakeVoteSignBytes(CHAIN_ID, same), sa.signature)).toBe(true);
      expect(sb.signature).toEqual(sa.signature);
    }
  });

  it("token pulled, then a wrong PIN: fails closed (no signature, nothing recorded, health red); recovers when fixed", async () => {
    const x = await node();
    const s = await signer([x.address]);
    const v1 = prevote(1n);
    const r1 = await x.request(requests.vote(CHAIN_ID, v1));
    expect(verifyEd25519(publicKey, fakeVoteSignBytes(CHAIN_ID, v1), r1.signature)).toBe(true);

    hsm.pull();
    const during = prevote(2n);
    try {
      const r = await x.request(requests.vote(CHAIN_ID, during));
      expect(r.signature).toHaveLength(0);
      expect(r.error?.description).toMatch(/unable to sign: ERR_HSM_/);
      const later = await x.request(requests.vote(CHAIN_ID, { ...during, type: 2 }));
      expect(later.signature).toHaveLength(0);
      expect(later.error?.description).toContain("ERR_HSM_UNAVAILABLE");
      expect((await health(s)).status).toBe(503);
      expect((await hsmCheck(s))?.ok).toBe(false);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/slashguard_hsm_up\{module="libsofthsm2\.so"\} 0/);
      expect(metrics).toMatch(
        /slashguard_hsm_failures_total\{module="libsofthsm2\.so",code="ERR_HSM_UNAVAILABLE"\} [1-9]/,
      );
      // the PIN is broken too while the token is out
      writeFileSync(hsm.pinFile, "0000\n");
    } finally {
      hsm.plugBack();
    }
    while ((await hsmCheck(s))?.detail !== "ERR_HSM_LOGIN") await sleep(20);
    expect((await x.request(requests.vote(CHAIN_ID, prevote(2n)))).signature).toHaveLength(0);
    expect((await health(s)).status).toBe(503);

    writeFileSync(hsm.pinFile, `${USER_PIN}\n`);
    while ((await health(s)).status !== 200) await sleep(20);
    // nothing was recorded for the refused requests: height 2 signs now, for another block than asked before
    const after = prevote(2n);
    const ra = await x.request(requests.vote(CHAIN_ID, after));
    expect(verifyEd25519(publicKey, fakeVoteSignBytes(CHAIN_ID, after), ra.signature)).toBe(true);
    // the same request again gets the stored signature; what was signed before still binds
    expect((await x.request(requests.vote(CHAIN_ID, after))).signature).toEqual(ra.signature);
    expect((await x.request(requests.vote(CHAIN_ID, prevote(2n)))).error?.code).toBe(2);
    expect((await x.request(requests.vote(CHAIN_ID, v1))).error?.code).toBe(2);
  });

  it("refuses to start when the key is not in the token", async () => {
    const cfg = writeSignerConfig({
      dir: work.dir,
      name: "missing",
      chainId: CHAIN_ID,
      keyFile: { module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile, keyLabel: "nobody" },
      nodes: ["tcp://127.0.0.1:1"],
    });
    const r = await runCli([
      "signer",
      "--config",
      cfg.main,
      "--cometbft-config",
      cfg.comet,
      "--db",
      `sqlite:${join(work.dir, "m.db")}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_HSM_KEY_NOT_FOUND");
  });
});
