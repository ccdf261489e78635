import { randomBytes } from "node:crypto";
import blst from "@chainsafe/blst";
import { afterAll, describe, expect, it } from "vitest";
import { BlsPool } from "../../../../src/keys/blsPool.js";
import { dealBlsKey, blsThresholdScheme as scheme } from "../../../../src/keys/threshold/blsThreshold.js";
import { ThresholdErrorCode } from "../../../../src/keys/threshold/errors.js";
import { gatherSignature } from "../../../../src/signer/threshold/gather.js";
import type { GroupKey } from "../../../../src/signer/threshold/thresholdEthSigner.js";
import {
  ClusterErrorCode,
  type PartialRequest,
  PeerCallError,
  type PeerTransport,
} from "../../../../src/signer/threshold/types.js";
import { toHex } from "../../../../src/util/hex.js";
import { nullLogger } from "../../../../src/util/logger.js";

type Behaviour = "honest" | "corrupt" | "refuse" | "down";

/** Peers in memory: each signs with its real share unless told to misbehave. */
function fakePeers(
  d: ReturnType<typeof dealBlsKey>,
  behaviour: Record<number, Behaviour>,
): PeerTransport & { asked: number[] } {
  const asked: number[] = [];
  const peers = Object.keys(behaviour).map(Number);
  return {
    peers,
    asked,
    isReachable: (p) => behaviour[p] !== "down",
    async requestPartial(peer: number, req: PartialRequest) {
      asked.push(peer);
      const b = behaviour[peer];
      if (b === "down") throw new PeerCallError({ code: ClusterErrorCode.PeerUnavailable, peer });
      if (b === "refuse")
        throw new PeerCallError({ code: ClusterErrorCode.PeerRefused, peer, peerCode: "ERR_ATTESTATION_DOUBLE_VOTE" });
      const secret = new Uint8Array(d.shares[peer - 1]!.secret);
      const root = b === "corrupt" ? randomBytes(32) : req.signingRoot;
      return { index: peer, partial: scheme.signWeighted(secret, scheme.weight(req.signers, peer), root) };
    },
  };
}

describe("gathering partial signatures", () => {
  const pool = new BlsPool({ threads: 1 });
  afterAll(() => pool.close());
  let nextId = 1;

  function setUp(t: number, n: number) {
    const sk = blst.SecretKey.fromKeygen(randomBytes(32));
    const d = dealBlsKey(sk.toBytes(), t, n);
    const poolId = nextId++;
    pool.addKeys([{ id: poolId, secret: new Uint8Array(d.shares[0]!.secret) }]);
    const key: GroupKey = {
      pubkey: d.groupPublicKey,
      pubkeyHex: toHex(d.groupPublicKey),
      cluster: {
        groupPublicKey: d.groupPublicKey,
        groupPublicKeyHex: toHex(d.groupPublicKey),
        commitments: d.commitments,
        sharePublicKeys: d.shares.map((s) => s.publicKey),
      },
      poolId,
      file: null,
    };
    return { sk, d, key };
  }

  const run = (key: GroupKey, t: number, transport: PeerTransport, now = () => 0, deadline = 1000) =>
    gatherSignature(
      { index: 1, threshold: t, deadline, key, root: new Uint8Array(32).fill(9), body: "{}" },
      { pool, scheme, transport, logger: nullLogger, metrics: null, now },
    );

  it("3-of-5 with a corrupt and a refusing peer: drops both, reports them, signs with the rest", async () => {
    const { sk, d, key } = setUp(3, 5);
    const transport = fakePeers(d, { 2: "corrupt", 3: "refuse", 4: "honest", 5: "honest" });
    const sig = await run(key, 3, transport);
    expect(Buffer.from(sig).equals(sk.sign(new Uint8Array(32).fill(9)).toBytes())).toBe(true);
  });

  it("an unreachable peer is asked last: a 2-of-3 request goes to the reachable one", async () => {
    const { sk, d, key } = setUp(2, 3);
    const transport = fakePeers(d, { 2: "down", 3: "honest" });
    const sig = await run(key, 2, transport);
    expect(Buffer.from(sig).equals(sk.sign(new Uint8Array(32).fill(9)).toBytes())).toBe(true);
    expect(transport.asked).toEqual([3]);
  });

  it("too few honest peers: ERR_THRESHOLD_NOT_ENOUGH_PARTIALS naming each peer's failure", async () => {
    const { d, key } = setUp(2, 3);
    let err: { code?: string; type?: { peers?: Record<string, string> } } = {};
    await run(key, 2, fakePeers(d, { 2: "corrupt", 3: "refuse" })).catch((e) => {
      err = e;
    });
    expect(err.code).toBe(ThresholdErrorCode.NotEnoughPartials);
    expect(err.type?.peers).toEqual({ "2": ClusterErrorCode.BadPartial, "3": "ERR_ATTESTATION_DOUBLE_VOTE" });
  });

  it("a passed deadline asks nobody and signs nothing", async () => {
    const { d, key } = setUp(2, 3);
    const transport = fakePeers(d, { 2: "honest", 3: "honest" });
    let code: string | undefined;
    await run(key, 2, transport, () => 2000, 1000).catch((e) => {
      code = e.code;
    });
    expect(code).toBe(ThresholdErrorCode.NotEnoughPartials);
    expect(transport.asked).toEqual([]);
  });
});
