import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cometAddressOf } from "../../../src/keys/cometbftKeyFile.js";
import { parseNodeAddress } from "../../../src/privval/nodeAddress.js";
import { PrivvalService } from "../../../src/privval/privvalService.js";
import { CometBftProtection } from "../../../src/protection/cometbft/cometBftProtection.js";
import { nullLogger } from "../../../src/util/logger.js";
import { CHAIN_ID, testKey } from "../../utils/comet.js";
import {
  FakeCometNode,
  type FakeVote,
  fakeExtensionSignBytes,
  fakeProposalSignBytes,
  fakeVoteSignBytes,
  randomBlock,
  requests,
  verifyEd25519,
} from "../../utils/fakeCometNode.js";
import { openTestStore, type TestStore } from "../../utils/stores.js";

const key = testKey("privval-unit");
const T = { seconds: 1_700_000_000n, nanos: 5 };

describe("PrivvalService with a fake node", () => {
  let ts: TestStore;
  let protection: CometBftProtection;
  let service: PrivvalService | null = null;
  const nodes: FakeCometNode[] = [];
  const dirs: string[] = [];

  const start = async (addresses: string[], layout: "both" | "v0.38" | "v1" = "both"): Promise<void> => {
    ts = await openTestStore("sqlite");
    protection = new CometBftProtection({}, { store: ts.store, logger: nullLogger });
    await protection.registerKey(CHAIN_ID, key);
    service = new PrivvalService(
      {
        chains: [
          {
            chainId: CHAIN_ID,
            key: { ...key, address: cometAddressOf(key.publicKey) },
            nodes: addresses.map(parseNodeAddress),
            pubKeyLayout: layout,
          },
        ],
        timing: { retryMinMs: 10, retryMaxMs: 50 },
      },
      { signer: protection, logger: nullLogger },
    );
    service.start();
  };

  afterEach(async () => {
    await service?.stop();
    service = null;
    for (const n of nodes.splice(0)) await n.close();
    await protection?.close();
    await ts?.dispose();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const node = async (unixPath?: string): Promise<FakeCometNode> => {
    const n = await FakeCometNode.listen(unixPath === undefined ? {} : { unixPath });
    nodes.push(n);
    return n;
  };

  it("pubkey, ping, votes and proposals over SecretConnection; signatures verify over the node's own sign bytes", async () => {
    const n = await node();
    await start([n.address]);
    const pk = await n.request(requests.pubKey(CHAIN_ID));
    expect(pk.pubKey).toEqual(key.publicKey);
    expect(pk.pubKeyV1).toEqual(key.publicKey);
    expect((await n.request(requests.ping())).member).toBe(8);

    const block = randomBlock();
    for (let h = 1n; h <= 3n; h++) {
      const prop = { height: h, round: 0, polRound: -1, block, timestamp: T };
      const pr = await n.request(requests.proposal(CHAIN_ID, prop));
      expect(pr.error).toBeNull();
      expect(verifyEd25519(key.publicKey, fakeProposalSignBytes(CHAIN_ID, prop), pr.signature)).toBe(true);
      for (const type of [1, 2] as const) {
        const v: FakeVote = {
          type,
          height: h,
          round: 0,
          block,
          timestamp: T,
          extension: type === 2 ? Buffer.from("ext") : undefined,
        };
        const r = await n.request(requests.vote(CHAIN_ID, v));
        expect(r.member).toBe(4);
        expect(r.error).toBeNull();
        expect(verifyEd25519(key.publicKey, fakeVoteSignBytes(CHAIN_ID, v), r.signature)).toBe(true);
        if (type === 2)
          expect(verifyEd25519(key.publicKey, fakeExtensionSignBytes(CHAIN_ID, v), r.extensionSignature)).toBe(true);
        else expect(r.extensionSignature).toHaveLength(0);
        expect(r.bytes).toBeLessThan(10 * 1024);
      }
    }
  });

  it("conflicts and regressions get a RemoteSignerError (code 2) and the session stays open", async () => {
    const n = await node();
    await start([n.address]);
    const v: FakeVote = { type: 1, height: 10n, round: 0, block: randomBlock(), timestamp: T };
    const first = await n.request(requests.vote(CHAIN_ID, v));
    const conflict = await n.request(requests.vote(CHAIN_ID, { ...v, block: randomBlock() }));
    expect(conflict.error?.code).toBe(2);
    expect(conflict.signature).toHaveLength(0);
    const later = await n.request(requests.vote(CHAIN_ID, { ...v, timestamp: { seconds: T.seconds + 3n, nanos: 0 } }));
    expect(later.signature).toEqual(first.signature);
    expect(later.timestamp).toEqual(T);
    expect((await n.request(requests.vote(CHAIN_ID, { ...v, height: 9n }))).error?.code).toBe(2);
    expect(n.connections).toBe(1);
  });

  it("wrong chain id, unknown message, SignBytes, nil precommit, extension on a prevote, v1 skip_extension_signing", async () => {
    const n = await node();
    await start([n.address]);
    const block = randomBlock();
    const other = await n.request(requests.vote("other-chain", { type: 1, height: 1n, round: 0, block, timestamp: T }));
    expect(other.member).toBe(4);
    expect(other.error).not.toBeNull();
    expect((await n.request(requests.pubKey("other-chain"))).error).not.toBeNull();
    expect((await n.request(requests.unknown(42))).member).toBe(0);
    const sb = await n.request(requests.signBytes(Buffer.from("anything")));
    expect(sb.member).toBe(10);
    expect(sb.error).not.toBeNull();
    const nil = await n.request(requests.vote(CHAIN_ID, { type: 2, height: 2n, round: 0, block: null, timestamp: T }));
    expect(nil.error).toBeNull();
    expect(nil.extensionSignature).toHaveLength(0);
    const extOnPrevote = await n.request(
      requests.vote(CHAIN_ID, { type: 1, height: 3n, round: 0, block, timestamp: T, extension: Buffer.from("x") }),
    );
    expect(extOnPrevote.error?.code).toBe(1);
    const skip = await n.request(requests.vote(CHAIN_ID, { type: 2, height: 3n, round: 0, block, timestamp: T }, true));
    expect(skip.error).toBeNull();
    expect(skip.extensionSignature).toHaveLength(0);
    expect(n.connections).toBe(1);
  });

  it("a 1 MiB vote extension is signed and the answer stays small", async () => {
    const n = await node();
    await start([n.address]);
    const v: FakeVote = {
      type: 2,
      height: 5n,
      round: 0,
      block: randomBlock(),
      timestamp: T,
      extension: Buffer.alloc(1 << 20, 7),
    };
    const r = await n.request(requests.vote(CHAIN_ID, v));
    expect(r.error).toBeNull();
    expect(verifyEd25519(key.publicKey, fakeExtensionSignBytes(CHAIN_ID, v), r.extensionSignature)).toBe(true);
    expect(r.bytes).toBeLessThan(1024);
  });

  it("plain privval over a Unix socket, v1 PubKeyResponse layout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sg-pv-"));
    dirs.push(dir);
    const n = await node(join(dir, "pv.sock"));
    await start([n.address], "v1");
    const pk = await n.request(requests.pubKey(CHAIN_ID));
    expect(pk.pubKey).toBeNull();
    expect(pk.pubKeyV1).toEqual(key.publicKey);
    const v: FakeVote = { type: 1, height: 1n, round: 0, block: randomBlock(), timestamp: T };
    expect(
      verifyEd25519(
        key.publicKey,
        fakeVoteSignBytes(CHAIN_ID, v),
        (await n.request(requests.vote(CHAIN_ID, v))).signature,
      ),
    ).toBe(true);
  });

  it("re-dials after the node drops the connection", async () => {
    const n = await node();
    await start([n.address]);
    await n.request(requests.ping());
    n.dropSigner();
    expect((await n.request(requests.ping())).member).toBe(8);
    expect(n.connections).toBe(2);
    expect((await service!.health()).ok).toBe(true);
  });
});
