import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { CHAIN_ID, seedOf, testKey } from "../utils/comet.js";
import { type SignerProcess, startSigner, writeKeyFile, writeSignerConfig } from "../utils/cometSignerProcess.js";
import {
  FakeCometNode,
  type FakeVote,
  fakeVoteSignBytes,
  randomBlock,
  requests,
  verifyEd25519,
} from "../utils/fakeCometNode.js";
import { freshStoreUrl, HAS_PG, tempDir } from "../utils/stores.js";

const seed = seedOf("pg-validator");
const key = testKey("pg-validator");
const T = { seconds: 1_760_000_000n, nanos: 0 };

describe.skipIf(!HAS_PG)("three signer processes on one PostgreSQL", () => {
  const nodes: FakeCometNode[] = [];
  const signers: SignerProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const s of signers.splice(0)) await s.kill();
    for (const n of nodes.splice(0)) await n.close();
    for (const c of cleanups.splice(0)) await c();
  });

  it("race for the same height/round/step from three nodes: exactly one signature each time", async () => {
    const dir = tempDir("sg-comet-pg-");
    cleanups.push(dir.cleanup);
    const { url, cleanup } = await freshStoreUrl("postgres");
    cleanups.push(cleanup);
    const keyFile = writeKeyFile(dir.dir, seed, key);
    for (let i = 0; i < 3; i++) nodes.push(await FakeCometNode.listen());
    for (let i = 0; i < 3; i++) {
      const cfg = writeSignerConfig({
        dir: dir.dir,
        name: `s${i}`,
        chainId: CHAIN_ID,
        keyFile,
        nodes: [nodes[i]!.address],
        db: url,
      });
      signers.push(await startSigner(["--config", cfg.main, "--cometbft-config", cfg.comet, "--db", url]));
    }
    await Promise.all(nodes.map((n) => n.waitForSigner()));

    for (let h = 1n; h <= 20n; h++) {
      for (const type of [1, 2] as const) {
        const votes: FakeVote[] = nodes.map(() => ({ type, height: h, round: 0, block: randomBlock(), timestamp: T }));
        const answers = await Promise.all(nodes.map((n, i) => n.request(requests.vote(CHAIN_ID, votes[i]!))));
        const signed = answers.flatMap((a, i) => (a.signature.length > 0 ? [i] : []));
        expect(signed).toHaveLength(1);
        const i = signed[0]!;
        expect(verifyEd25519(key.publicKey, fakeVoteSignBytes(CHAIN_ID, votes[i]!), answers[i]!.signature)).toBe(true);
        expect(answers.filter((a) => a.error?.code === 2)).toHaveLength(2);
      }
    }
  });

  it("SIGKILL while the decision waits for the key's lock, and right after an answer: restarts sign nothing conflicting", async () => {
    const dir = tempDir("sg-comet-pg-kill-");
    cleanups.push(dir.cleanup);
    const { url, cleanup } = await freshStoreUrl("postgres");
    cleanups.push(cleanup);
    const keyFile = writeKeyFile(dir.dir, seed, key);
    const node = await FakeCometNode.listen();
    nodes.push(node);
    const cfg = writeSignerConfig({ dir: dir.dir, name: "k", chainId: CHAIN_ID, keyFile, nodes: [node.address] });
    const start = async (): Promise<SignerProcess> => {
      const s = await startSigner(["--config", cfg.main, "--cometbft-config", cfg.comet, "--db", url]);
      signers.push(s);
      return s;
    };
    const vote = (height: bigint): FakeVote => ({ type: 1, height, round: 0, block: randomBlock(), timestamp: T });

    const first = await start();
    await node.request(requests.vote(CHAIN_ID, vote(1n)));
    // Another session holds the key's advisory lock: the signer's decision for height 2 waits inside its transaction.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const [row] = (await c.query("SELECT id FROM cometbft_sign_state WHERE chain_id = $1", [CHAIN_ID])).rows;
    await c.query("SELECT pg_advisory_lock(3, $1)", [row.id]);
    const blocked = vote(2n);
    const pending = node.request(requests.vote(CHAIN_ID, blocked)).catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    await first.kill();
    signers.splice(signers.indexOf(first), 1);
    expect(await pending).toBeNull();
    await c.query("SELECT pg_advisory_unlock(3, $1)", [row.id]);
    await c.end();

    const second = await start();
    const other = vote(2n);
    expect(
      verifyEd25519(
        key.publicKey,
        fakeVoteSignBytes(CHAIN_ID, other),
        (await node.request(requests.vote(CHAIN_ID, other))).signature,
      ),
    ).toBe(true);
    expect((await node.request(requests.vote(CHAIN_ID, blocked))).error?.code).toBe(2);

    // killed right after an answer: the record survived
    const answered = vote(3n);
    const sig = (await node.request(requests.vote(CHAIN_ID, answered))).signature;
    await second.kill();
    signers.splice(signers.indexOf(second), 1);
    await start();
    expect((await node.request(requests.vote(CHAIN_ID, vote(3n)))).error?.code).toBe(2);
    expect((await node.request(requests.vote(CHAIN_ID, answered))).signature).toEqual(sig);
  });
});
