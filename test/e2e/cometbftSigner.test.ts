import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CHAIN_ID, seedOf, testKey } from "../utils/comet.js";
import {
  runCli,
  type SignerProcess,
  startSigner,
  writeKeyFile,
  writeSignerConfig,
} from "../utils/cometSignerProcess.js";
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
import { tempDir } from "../utils/stores.js";

const seed = seedOf("e2e-validator");
const key = testKey("e2e-validator");
const T = { seconds: 1_750_000_000n, nanos: 123 };
const prevote = (height: bigint, block = randomBlock()): FakeVote => ({
  type: 1,
  height,
  round: 0,
  block,
  timestamp: T,
});

describe("slashguard signer --cometbft-config (real process, fake CometBFT nodes)", () => {
  let dir: { dir: string; cleanup: () => void };
  let keyFile: string;
  let db: string;
  const nodes: FakeCometNode[] = [];
  const signers: SignerProcess[] = [];

  beforeEach(() => {
    dir = tempDir("sg-comet-e2e-");
    keyFile = writeKeyFile(dir.dir, seed, key);
    db = `sqlite:${join(dir.dir, "sg.db")}`;
  });
  afterEach(async () => {
    for (const s of signers.splice(0)) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.kill();
    for (const n of nodes.splice(0)) await n.close();
    dir.cleanup();
  });

  const node = async (): Promise<FakeCometNode> => {
    const n = await FakeCometNode.listen();
    nodes.push(n);
    return n;
  };
  const signer = async (
    name: string,
    nodeAddrs: string[],
    extra: { stateFile?: string } = {},
  ): Promise<SignerProcess> => {
    const cfg = writeSignerConfig({ dir: dir.dir, name, chainId: CHAIN_ID, keyFile, nodes: nodeAddrs, ...extra });
    const s = await startSigner(["--config", cfg.main, "--cometbft-config", cfg.comet, "--db", db]);
    signers.push(s);
    return s;
  };

  it("votes and proposals across heights; health and metrics", async () => {
    const n = await node();
    const s = await signer("a", [n.address]);
    expect((await n.request(requests.pubKey(CHAIN_ID))).pubKey).toEqual(key.publicKey);
    for (let h = 1n; h <= 20n; h++) {
      const block = randomBlock();
      const prop = { height: h, round: 0, polRound: -1, block, timestamp: T };
      const p = await n.request(requests.proposal(CHAIN_ID, prop));
      expect(verifyEd25519(key.publicKey, fakeProposalSignBytes(CHAIN_ID, prop), p.signature)).toBe(true);
      const pv = prevote(h, block);
      expect(
        verifyEd25519(
          key.publicKey,
          fakeVoteSignBytes(CHAIN_ID, pv),
          (await n.request(requests.vote(CHAIN_ID, pv))).signature,
        ),
      ).toBe(true);
      const pc: FakeVote = { ...pv, type: 2, extension: Buffer.from(`ext-${h}`) };
      const r = await n.request(requests.vote(CHAIN_ID, pc));
      expect(verifyEd25519(key.publicKey, fakeVoteSignBytes(CHAIN_ID, pc), r.signature)).toBe(true);
      expect(verifyEd25519(key.publicKey, fakeExtensionSignBytes(CHAIN_ID, pc), r.extensionSignature)).toBe(true);
    }
    const health = await fetch(`${s.url}/healthcheck`);
    expect(health.status).toBe(200);

    // the node restarts (its port is closed for a while): the signer dials again by itself
    const port = Number(new URL(n.address.replace("tcp:", "http:")).port);
    await n.close();
    nodes.splice(nodes.indexOf(n), 1);
    // health goes DOWN once the signer has seen the connection end
    while ((await fetch(`${s.url}/healthcheck`)).status !== 503) await new Promise((r) => setTimeout(r, 20));
    const restarted = await FakeCometNode.listen({ port });
    nodes.push(restarted);
    const after = prevote(21n);
    const ra = await restarted.request(requests.vote(CHAIN_ID, after));
    expect(verifyEd25519(key.publicKey, fakeVoteSignBytes(CHAIN_ID, after), ra.signature)).toBe(true);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/slashguard_protection_decisions_total\{chain="cometbft",kind="vote",outcome="new"\} 41/);
    expect(metrics).toMatch(/slashguard_privval_connected\{chain_id="test-chain-1",node="tcp:[^"]+"\} 1/);
    expect(await s.stop()).toBe(0);
  });

  it("two sentries send conflicting votes at once: exactly one signature per position; identical ones share it", async () => {
    const [a, b] = [await node(), await node()];
    await signer("two", [a.address, b.address]);
    await Promise.all([a.waitForSigner(), b.waitForSigner()]);
    for (let h = 1n; h <= 15n; h++) {
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
      expect(sa.signature).toHaveLength(64);
      expect(sb.signature).toEqual(sa.signature);
    }
  });

  it("SIGKILL while the request waits for its record, then restart: the unrecorded vote was never signed", async () => {
    const n = await node();
    const s1 = await signer("kill1", [n.address]);
    await n.request(requests.vote(CHAIN_ID, prevote(1n)));
    // Hold the database's write lock, so the signer is stuck between the request and its answer.
    const lock = new Database(join(dir.dir, "sg.db"));
    lock.exec("BEGIN IMMEDIATE");
    const first = prevote(5n);
    const pending = n.request(requests.vote(CHAIN_ID, first)).catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    await s1.kill();
    expect(await pending).toBeNull();
    lock.exec("ROLLBACK");
    lock.close();

    await signer("kill2", [n.address]);
    const other = prevote(5n);
    const r = await n.request(requests.vote(CHAIN_ID, other));
    expect(verifyEd25519(key.publicKey, fakeVoteSignBytes(CHAIN_ID, other), r.signature)).toBe(true);
    // the vote the killed process never answered must not be signed now
    expect((await n.request(requests.vote(CHAIN_ID, first))).error?.code).toBe(2);
  });

  it("SIGKILL right after an answer, then restart: the record is there (repeat gets the same signature, a conflict none)", async () => {
    const n = await node();
    const s1 = await signer("after1", [n.address]);
    const v = prevote(7n);
    const r = await n.request(requests.vote(CHAIN_ID, v));
    await s1.kill();
    await signer("after2", [n.address]);
    expect((await n.request(requests.vote(CHAIN_ID, prevote(7n)))).error?.code).toBe(2);
    expect((await n.request(requests.vote(CHAIN_ID, v))).signature).toEqual(r.signature);
  });

  it("SIGKILL at random moments around a request: never two signatures for one position", async () => {
    const n = await node();
    for (let i = 0; i < 3; i++) {
      const s = await signer(`rand${i}`, [n.address]);
      const h = BigInt(100 + i);
      const a = prevote(h);
      await n.waitForSigner();
      const pa = n.request(requests.vote(CHAIN_ID, a)).catch(() => null);
      await new Promise((r) => setTimeout(r, i));
      await s.kill();
      const ra = await pa;
      await signer(`rand${i}b`, [n.address]);
      const b = prevote(h);
      const rb = await n.request(requests.vote(CHAIN_ID, b));
      const signedA = ra !== null && ra.signature.length > 0;
      const signedB = rb.signature.length > 0;
      expect(signedA && signedB).toBe(false);
      await signers.pop()!.kill();
    }
  });

  it("bad input: garbage before and after the handshake, oversize and undecryptable frames, low-order key; wrong chain id and unknown types keep the session", async () => {
    const n = await node();
    await signer("bad", [n.address]);
    await n.waitForConnections(1);
    let expected = 1;
    const reconnects = async (): Promise<void> => {
      expected++;
      await n.waitForConnections(expected);
    };

    // garbage instead of the ephemeral key, then the node hangs up
    n.hijackNext((s) => s.end(randomBytes(200)));
    n.dropSigner();
    await reconnects();
    // a low-order ephemeral key
    n.hijackNext((s) => s.write(Buffer.concat([Buffer.from([0x22, 0x0a, 0x20]), Buffer.alloc(32)])));
    n.dropSigner();
    await reconnects();
    // after the handshake: bytes that are no privval message
    n.channel.write(Buffer.from([0x05, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await reconnects();
    // a length prefix of 100 MiB: the connection is closed before anything is read
    n.channel.write(Buffer.from([0x80, 0x80, 0x80, 0x32]));
    await reconnects();
    // a frame that does not decrypt
    n.channel.socket.write(randomBytes(1044));
    await reconnects();

    const wrong = await n.request(requests.vote("not-my-chain", prevote(1n)));
    expect(wrong.member).toBe(4);
    expect(wrong.error).not.toBeNull();
    expect((await n.request(requests.unknown(77))).member).toBe(0);
    expect((await n.request(requests.signBytes(randomBytes(40)))).error).not.toBeNull();
    const ok = prevote(1n);
    expect(
      verifyEd25519(
        key.publicKey,
        fakeVoteSignBytes(CHAIN_ID, ok),
        (await n.request(requests.vote(CHAIN_ID, ok))).signature,
      ),
    ).toBe(true);
    expect(n.connections).toBe(expected);
    // each connection ended for the reason the input deserved
    const log = signers[0]!.stderr();
    for (const code of [
      "ERR_SECRET_CONNECTION_LOW_ORDER_POINT",
      "ERR_COMETBFT_MALFORMED",
      "ERR_COMETBFT_MESSAGE_TOO_LARGE",
      "ERR_SECRET_CONNECTION_DECRYPT_FAILED",
      "ERR_COMETBFT_CHAIN_ID_MISMATCH",
    ])
      expect(log).toContain(code);
  });

  it("starting state: imports priv_validator_state.json, never starts below it, CLI import never lowers", async () => {
    const n = await node();
    const stateFile = join(dir.dir, "priv_validator_state.json");
    writeFileSync(stateFile, JSON.stringify({ height: "500", round: 0, step: 3 }));
    await signer("state", [n.address], { stateFile });
    expect((await n.request(requests.vote(CHAIN_ID, prevote(499n)))).error?.code).toBe(2);
    expect((await n.request(requests.vote(CHAIN_ID, { ...prevote(500n), type: 2 }))).error?.code).toBe(2);
    expect((await n.request(requests.vote(CHAIN_ID, prevote(501n)))).signature).toHaveLength(64);
    await signers.pop()!.stop();

    writeFileSync(stateFile, JSON.stringify({ height: "400", round: 0, step: 1 }));
    const low = await runCli([
      "protection",
      "import-cometbft-state",
      "--db",
      db,
      "--chain-id",
      CHAIN_ID,
      "--key-file",
      keyFile,
      stateFile,
    ]);
    expect(low.code).toBe(0);
    expect(low.stdout).toContain("kept the stored state 501/0/2");
    const out = join(dir.dir, "exported.json");
    expect(
      (
        await runCli([
          "protection",
          "export-cometbft-state",
          "--db",
          db,
          "--chain-id",
          CHAIN_ID,
          "--key-file",
          keyFile,
          out,
        ])
      ).code,
    ).toBe(0);
    const high = await runCli([
      "protection",
      "import-cometbft-state",
      "--db",
      db,
      "--chain-id",
      CHAIN_ID,
      "--key-file",
      keyFile,
      out,
    ]);
    expect(high.stdout).toContain("kept the stored state");
  });

  it("refuses to start with a store in its config that is not the signer's, or a bad key file", async () => {
    const cfg = writeSignerConfig({
      dir: dir.dir,
      name: "mismatch",
      chainId: CHAIN_ID,
      keyFile,
      nodes: ["tcp://127.0.0.1:1"],
      db: "sqlite:/elsewhere.db",
    });
    await expect(startSigner(["--config", cfg.main, "--cometbft-config", cfg.comet, "--db", db])).rejects.toThrow(
      /ERR_CONFIG_STORE_MISMATCH/,
    );
    writeFileSync(keyFile, "{}");
    const cfg2 = writeSignerConfig({
      dir: dir.dir,
      name: "badkey",
      chainId: CHAIN_ID,
      keyFile,
      nodes: ["tcp://127.0.0.1:1"],
    });
    await expect(startSigner(["--config", cfg2.main, "--cometbft-config", cfg2.comet, "--db", db])).rejects.toThrow(
      /ERR_KEY_FILE_INVALID/,
    );
  });
});
