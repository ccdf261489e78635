import { afterEach, describe, expect, it } from "vitest";
import { BeaconClient } from "../../../../src/chains/ethereum/beaconClient.js";
import { BeaconUnavailableError } from "../../../../src/chains/ethereum/beaconErrors.js";
import {
  parseAttestations,
  parseCommittees,
  parseGenesis,
  parseHeader,
  parseLiveness,
  parseSpec,
  parseSyncing,
  parseValidators,
} from "../../../../src/chains/ethereum/beaconParse.js";
import { attestingIndices, bitlistPositions } from "../../../../src/chains/ethereum/onchainAttestations.js";
import { parseSignerEvents } from "../../../../src/detect/signerEvents.js";
import { BadRequestError, isAppError } from "../../../../src/util/errors.js";
import { DG_GVR, fakePubkeys } from "../../../utils/doppelganger.js";
import { bitlist, FakeBeaconNode } from "../../../utils/fakeBeacon.js";
import { mutate, rng } from "../../../utils/fuzz.js";
import { LoopbackServer } from "../../../utils/httpServer.js";

describe("beacon API client", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function node(o: Partial<{ oldForms: boolean }> = {}) {
    const bn = new FakeBeaconNode({
      genesisTimeSec: 1_700_000_000,
      genesisValidatorsRoot: DG_GVR,
      now: () => 1_700_000_000_000 + 100 * 96_000,
    });
    bn.validators = fakePubkeys(300).map((pubkey, index) => ({ index, pubkey }));
    bn.oldForms = o.oldForms ?? false;
    await bn.start();
    cleanups.push(() => bn.stop());
    return bn;
  }

  it("resolves indices and liveness in POST batches of 1,000 (standard forms)", async () => {
    const bn = await node();
    bn.validators = fakePubkeys(200, 0x10).flatMap((p, i) => [{ index: 2 * i, pubkey: p }]);
    const c = new BeaconClient({ urls: [bn.url] });
    const keys = bn.validators.map((v) => v.pubkey);
    const found = await c.validatorIndices([...keys, fakePubkeys(1, 0xf0)[0]!]);
    expect(found.size).toBe(200); // the key without a deposit is absent
    expect(found.get(keys[7]!)?.index).toBe(14);
    const indices = Array.from({ length: 2500 }, (_, i) => i);
    bn.setLive(99, 3, 2400);
    const a = await c.liveness([99n, 100n], indices);
    expect([...a.byEpoch.get(99n)!.entries()].filter(([, v]) => v).map(([i]) => i)).toEqual([3, 2400]);
    expect(a.byEpoch.get(100n)!.size).toBe(2500);
    const posts = bn.server.requests.filter(
      (r) => r.method === "POST" && r.url.startsWith("/eth/v1/validator/liveness/"),
    );
    expect(posts.map((r) => (r.json as string[]).length)).toEqual([1000, 1000, 500, 1000, 1000, 500]);
  });

  it("falls back to the older GET forms on 404 and keeps using them for that node", async () => {
    const bn = await node({ oldForms: true });
    const c = new BeaconClient({ urls: [bn.url] });
    bn.setLive(100, 5);
    for (let k = 0; k < 2; k++) {
      const a = await c.liveness([100n], [4, 5, 6]);
      expect([...a.byEpoch.get(100n)!.entries()]).toEqual([
        [4, false],
        [5, true],
        [6, false],
      ]);
    }
    expect((await c.validatorIndices(fakePubkeys(3))).size).toBe(3);
    const posts = bn.server.requests.filter((r) => r.method === "POST").map((r) => r.url);
    expect(posts).toEqual(["/eth/v1/validator/liveness/100", "/eth/v1/beacon/states/head/validators"]); // asked once each
  });

  it("block attestations: v2, else v1, else the block body; an empty slot has no header", async () => {
    for (const oldForms of [false, true]) {
      const bn = await node({ oldForms });
      const data = {
        slot: "800",
        index: "0",
        beacon_block_root: `0x${"11".repeat(32)}`,
        source: { epoch: "99", root: `0x${"22".repeat(32)}` },
        target: { epoch: "100", root: `0x${"33".repeat(32)}` },
      };
      bn.addBlock(801n, 7, [{ data, attesters: [2, 5] }]);
      const c = new BeaconClient({ urls: [bn.url] });
      expect(await c.header(802n)).toBeNull();
      const h = (await c.header(801n))!;
      expect(h.proposerIndex).toBe(7);
      const atts = await c.blockAttestations(h.root);
      expect(atts.map((a) => a.data.targetEpoch)).toEqual([100n]);
      const committees = await c.committees(100n);
      const lookup = (slot: bigint, index: bigint) =>
        committees.find((x) => x.slot === slot && x.index === index)?.validators;
      expect(attestingIndices(atts[0]!, lookup)).toEqual([2, 5]);
    }
  });

  it("fails over to the next node and prefers the one that answered; every failure is named", async () => {
    const good = await node();
    const dead = new LoopbackServer(() => {});
    const deadUrl = await dead.start();
    await dead.stop();
    const hang = new LoopbackServer(() => {}); // accepts, never answers
    const hangUrl = await hang.start();
    cleanups.push(() => hang.stop());
    const c = new BeaconClient({ urls: [deadUrl, hangUrl, good.url], timeoutMs: 300 });
    expect((await c.genesis()).genesisTimeSec).toBe(1_700_000_000n);
    await c.spec();
    expect(hang.requests.length).toBe(1); // the second call went straight to the node that answered
    good.down = true;
    const e = await c.spec().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BeaconUnavailableError);
    expect((e as BeaconUnavailableError).type.failures.map((f) => f.code)).toEqual([
      "ERR_BEACON_STATUS",
      "ERR_BEACON_UNREACHABLE",
      "ERR_BEACON_TIMEOUT",
    ]);
    good.down = false;
    await expect(c.genesis(new Uint8Array(32))).rejects.toMatchObject({
      type: { failures: expect.arrayContaining([expect.objectContaining({ code: "ERR_BEACON_WRONG_NETWORK" })]) },
    });
  });

  it("a malformed answer is ERR_BEACON_BAD_RESPONSE naming the field, never a guess", async () => {
    const srv = new LoopbackServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        req.url.startsWith("/eth/v1/node/syncing")
          ? JSON.stringify({ data: { is_syncing: false, sync_distance: "0", head_slot: "5" } })
          : JSON.stringify({ data: [{ index: "1", is_live: "yes" }] }),
      );
    });
    const url = await srv.start();
    cleanups.push(() => srv.stop());
    const e = await new BeaconClient({ urls: [url] }).liveness([1n], [1]).catch((x: unknown) => x);
    expect((e as BeaconUnavailableError).type.failures[0]).toMatchObject({
      code: "ERR_BEACON_BAD_RESPONSE",
      field: "is_live",
    });
  });
  it("an endless answer stops at the size cap; credentials in the node URL never reach an error", async () => {
    const srv = new LoopbackServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed) if (!res.write(chunk)) return void res.once("drain", pump);
      };
      pump();
    });
    const url = new URL(await srv.start());
    cleanups.push(() => srv.stop());
    const node = `http://user:s3cret@${url.host}/key/0123456789abcdef0123456789abcdef`;
    const e = await new BeaconClient({ urls: [node], maxBytes: 1 << 20 }).spec().catch((x: unknown) => x);
    expect((e as BeaconUnavailableError).type.failures[0]).toMatchObject({
      code: "ERR_BEACON_BAD_RESPONSE",
      field: "size",
    });
    const text = `${(e as Error).message} ${JSON.stringify((e as BeaconUnavailableError).toObject())}`;
    expect(text).not.toMatch(/s3cret|user:|0123456789abcdef0123456789abcdef/);
    // the user info was sent as Basic authentication
    expect(srv.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from("user:s3cret").toString("base64")}`);
  });
});

describe("beacon answers and signer events: parsers", () => {
  it("bitlists: the highest set bit is the length", () => {
    expect(bitlistPositions(Uint8Array.of(0b0000_0101))).toEqual({ length: 2, set: [0] });
    expect(bitlistPositions(Buffer.from(bitlist(10, [0, 9]).slice(2), "hex"))).toEqual({ length: 10, set: [0, 9] });
    expect(() => bitlistPositions(Uint8Array.of(0))).toThrow(BadRequestError);
  });

  it("Electra aggregates span the committees named by committee_bits", () => {
    const committees = new Map([
      ["5:0", Float64Array.of(10, 11)],
      ["5:2", Float64Array.of(20, 21, 22)],
    ]);
    const lookup = (slot: bigint, index: bigint) => committees.get(`${slot}:${index}`);
    const a = {
      aggregationBits: Buffer.from(bitlist(5, [1, 2, 4]).slice(2), "hex"),
      committeeBits: Uint8Array.of(0b101, 0, 0, 0, 0, 0, 0, 0),
      data: { slot: 5n, index: 0n, targetEpoch: 0n, sourceEpoch: 0n, json: {} },
    };
    expect(attestingIndices(a, lookup)).toEqual([11, 20, 22]);
    expect(() =>
      attestingIndices({ ...a, aggregationBits: Buffer.from(bitlist(4, [1]).slice(2), "hex") }, lookup),
    ).toThrow(BadRequestError);
  });

  it("liveness of another epoch than asked is malformed (Lighthouse's sanity check)", () => {
    expect(parseLiveness({ data: [{ index: 1, epoch: 5, is_live: true }] }, 5n)).toEqual([{ index: 1, isLive: true }]);
    expect(() => parseLiveness({ data: [{ index: 1, epoch: 6, is_live: true }] }, 5n)).toThrow(BadRequestError);
    expect(() => parseLiveness({ data: [{ index: String(2 ** 40), is_live: true }] }, 5n)).toThrow(BadRequestError);
  });

  it("fuzz: mutated answers and events are typed errors or valid values, never a crash or a wrong type", () => {
    const samples: [(b: unknown) => unknown, unknown][] = [
      [
        parseGenesis,
        { data: { genesis_time: "1", genesis_validators_root: DG_GVR, genesis_fork_version: "0x00000001" } },
      ],
      [parseSpec, { data: { SECONDS_PER_SLOT: "12", SLOTS_PER_EPOCH: "32", PRESET_BASE: "mainnet" } }],
      [parseSyncing, { data: { is_syncing: false, sync_distance: "0", head_slot: "9" } }],
      [parseValidators, { data: [{ index: "3", status: "active_ongoing", validator: { pubkey: fakePubkeys(1)[0] } }] }],
      [(b) => parseLiveness(b, 7n), { data: [{ index: "3", is_live: true }] }],
      [parseCommittees, { data: [{ index: "0", slot: "8", validators: ["1", "2"] }] }],
      [parseHeader, { data: { root: DG_GVR, header: { message: { slot: "1", proposer_index: "2" } } } }],
      [
        parseAttestations,
        {
          data: [
            {
              aggregation_bits: "0x0d",
              data: {
                slot: "1",
                index: "0",
                beacon_block_root: DG_GVR,
                source: { epoch: "0", root: DG_GVR },
                target: { epoch: "0", root: DG_GVR },
              },
            },
          ],
        },
      ],
      [
        parseSignerEvents,
        {
          events: [
            {
              action: "raise",
              kind: "doppelganger_detected",
              pubkey: fakePubkeys(1)[0],
              source: "signer@a:1",
              confidence: 1,
              summary: "s",
              evidence: {},
            },
            { action: "clear", kind: "doppelganger_check_failed", pubkey: null, source: "signer@a:1" },
          ],
        },
      ],
    ];
    const r = rng(20240905);
    let refused = 0;
    for (const [parse, sample] of samples) {
      expect(() => parse(sample)).not.toThrow();
      for (let i = 0; i < 400; i++) {
        try {
          parse(mutate(sample, r));
        } catch (e) {
          if (!isAppError(e) || e.code !== "ERR_BAD_REQUEST") throw e;
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });
});
