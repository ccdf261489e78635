import type { NatsConnection } from "nats";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createEventMetrics } from "../../../src/events/metrics.js";
import { NatsBus } from "../../../src/events/natsBus.js";
import { OutboxPublisher } from "../../../src/events/outboxPublisher.js";
import { OutboxSink } from "../../../src/events/outboxSink.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { toHex } from "../../../src/util/hex.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, GVR0, pubkey } from "../../utils/eth.js";
import {
  deleteStream,
  HAS_NATS,
  markNatsSkipped,
  NATS_URL,
  natsConnect,
  readStream,
  uniqueBus,
} from "../../utils/nats.js";
import { openTestStore, type TestStore } from "../../utils/stores.js";

describe.skipIf(!HAS_NATS)("NATS JetStream bus (real server)", () => {
  let nc: NatsConnection;
  const streams: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    nc = await natsConnect();
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const s of streams.splice(0)) await deleteStream(nc, s);
  });
  afterAll(async () => {
    await nc?.close();
  });

  it("creates the stream when missing; a message id published twice is stored once", async () => {
    const { stream, prefix } = uniqueBus();
    streams.push(stream);
    const bus = new NatsBus({ url: NATS_URL, stream, subjectPrefix: prefix }, { logger: nullLogger });
    closers.push(() => bus.close());
    await bus.ready();
    expect(bus.connected).toBe(true);
    await bus.publish(`${prefix}.sign.ethereum.0xaa`, JSON.stringify({ n: 1 }), "id-1");
    await bus.publish(`${prefix}.sign.ethereum.0xaa`, JSON.stringify({ n: 1 }), "id-1");
    await bus.publish(`${prefix}.sign.ethereum.0xaa`, JSON.stringify({ n: 2 }), "id-2");
    const got = await readStream(nc, stream, 2);
    expect(got.map((m) => [m.msgId, m.json.n])).toEqual([
      ["id-1", 1],
      ["id-2", 2],
    ]);
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    expect(info.config.subjects).toEqual([`${prefix}.>`]);
  });

  it("publishBatch: every message acknowledged, a repeated id stored once, a subject no stream takes is rejected", async () => {
    const { stream, prefix } = uniqueBus();
    streams.push(stream);
    const bus = new NatsBus({ url: NATS_URL, stream, subjectPrefix: prefix, timeoutMs: 1500 }, { logger: nullLogger });
    closers.push(() => bus.close());
    await bus.ready();
    const msgs = [1, 2, 3].map((n) => ({
      subject: `${prefix}.sign.ethereum.0x${n}`,
      payload: `{"n":${n}}`,
      msgId: `b-${n}`,
    }));
    expect((await bus.publishBatch(msgs)).map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    const again = await bus.publishBatch([msgs[1]!, { subject: "nostream_here.x", payload: "{}", msgId: "b-9" }]);
    expect(again.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    const got = await readStream(nc, stream, 3);
    expect(got.map((m) => [m.msgId, m.json.n])).toEqual([
      ["b-1", 1],
      ["b-2", 2],
      ["b-3", 3],
    ]);
  });

  it("decisions of an Ethereum protection reach the stream in order, each once, on its key's subject", async () => {
    const { stream, prefix } = uniqueBus();
    streams.push(stream);
    const ts: TestStore = await openTestStore("sqlite");
    closers.push(() => ts.dispose());
    const metrics = createEventMetrics(new Registry());
    const sink = new OutboxSink({ subjectPrefix: prefix, instance: "t" }, { logger: nullLogger, metrics });
    const p = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0 },
      { store: ts.store, logger: nullLogger, events: sink },
    );
    closers.push(() => p.close());
    const bus = new NatsBus({ url: NATS_URL, stream, subjectPrefix: prefix }, { logger: nullLogger });
    const publisher = new OutboxPublisher(
      { maxBacklog: 10_000, idleMs: 20 },
      { store: ts.store, bus, logger: nullLogger, metrics, onFull: () => {} },
    );
    sink.onRecorded = () => publisher.poke();
    publisher.start();
    closers.push(() => publisher.stop());
    const keys = [pubkey(1), pubkey(2)];
    for (let e = 1; e <= 25; e++)
      await Promise.allSettled(
        keys.flatMap((k) => [p.checkAndRecord(att(k, e - 1, e, 1)), p.checkAndRecord(att(k, e - 1, e, 2))]),
      );
    const got = await readStream(nc, stream, 100);
    expect(got).toHaveLength(100);
    expect(new Set(got.map((m) => m.msgId)).size).toBe(100);
    for (const k of keys) {
      const mine = got.filter((m) => m.subject === `${prefix}.sign.ethereum.${toHex(k)}`);
      expect(mine).toHaveLength(50);
      expect(mine.map((m) => [(m.json.request as { target_epoch: string }).target_epoch, m.json.decision])).toEqual(
        Array.from({ length: 50 }, (_, i) => [String(Math.floor(i / 2) + 1), i % 2 === 0 ? "signed" : "refused"]),
      );
      expect(mine.every((m) => m.msgId === m.json.id)).toBe(true);
    }
  });
});

markNatsSkipped("NATS JetStream bus");
