import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import type { NatsConnection } from "nats";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createEventMetrics, type EventMetrics } from "../../../src/events/metrics.js";
import { OutboxSink } from "../../../src/events/outboxSink.js";
import { PublisherThread } from "../../../src/events/publisherThread.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { outboxRepository } from "../../../src/store/events/outboxRepository.js";
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
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

const REPO = resolve(import.meta.dirname, "../../..");
/** Messages in a stream, read by another process: usable while this thread's event loop is blocked. */
const COUNT_SCRIPT = `import { connect } from "nats";
const nc = await connect({ servers: process.argv[1], timeout: 5000 });
const info = await (await nc.jetstreamManager()).streams.info(process.argv[2]).catch(() => null);
console.log(info?.state.messages ?? 0);
await nc.close();`;

function countBlocking(stream: string): number {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", COUNT_SCRIPT, NATS_URL, stream], {
    cwd: REPO,
    encoding: "utf8",
  });
  return Number(r.stdout.trim());
}

async function until(cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(await cond()).toBe(true);
}

const value = async (m: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
  (await m.get()).values[0]?.value ?? 0;

describe.skipIf(!HAS_NATS).each(ENGINES)("publisher thread on %s (real NATS JetStream)", (engine) => {
  let nc: NatsConnection;
  let ts: TestStore | null = null;
  let p: EthereumProtection | null = null;
  let publisher: PublisherThread | null = null;
  let stream = "";
  let prefix = "";
  let metrics: EventMetrics;
  beforeAll(async () => {
    nc = await natsConnect();
  });
  afterEach(async () => {
    await publisher?.stop();
    publisher = null;
    await p?.close();
    p = null;
    await ts?.dispose();
    ts = null;
    await deleteStream(nc, stream);
  });
  afterAll(async () => {
    await nc?.close();
  });

  const open = async (): Promise<void> => {
    ({ stream, prefix } = uniqueBus());
    ts = await openTestStore(engine);
    metrics = createEventMetrics(new Registry());
    const sink = new OutboxSink({ subjectPrefix: prefix, instance: "test-1" }, { logger: nullLogger, metrics });
    p = await EthereumProtection.open(
      { genesisValidatorsRoot: GVR0 },
      { store: ts.store, logger: nullLogger, events: sink },
    );
    publisher = new PublisherThread(
      {
        storeUrl: ts.url,
        bus: { url: NATS_URL, stream, subjectPrefix: prefix },
        publisher: { maxBacklog: 1000, idleMs: 20 },
        queueMax: 10,
        minRestartMs: 50,
        maxRestartMs: 200,
      },
      { store: ts.store, queue: null, logger: nullLogger, metrics, onFull: (f) => (sink.full = f) },
    );
    sink.onRecorded = () => publisher?.poke();
    publisher.start();
    await until(() => publisher!.status().connected);
  };
  /** One attestation per key for each target in `targets` (each a new decision with its event). */
  const sign = async (keys: number, targets: number[]): Promise<void> => {
    for (const t of targets)
      await Promise.all(Array.from({ length: keys }, (_, i) => p!.checkAndRecord(att(pubkey(i + 1), t - 1, t, t))));
  };
  const outbox = async (): Promise<number> =>
    (await ts!.store.tx((tx) => outboxRepository.backlog(tx), { readOnly: true })).count;

  it("publishes from its own thread: the events reach the stream while this thread's event loop is blocked", async () => {
    await open();
    await sign(4, [1, 2, 3, 4, 5]);
    // from here to the last count nothing runs on this thread's event loop (spawnSync blocks it)
    let seen = 0;
    const end = Date.now() + 60_000;
    while (seen < 20 && Date.now() < end) seen = countBlocking(stream);
    expect(seen).toBe(20);
    const got = await readStream(nc, stream, 20);
    expect(new Set(got.map((m) => m.msgId)).size).toBe(20);
    await until(async () => (await outbox()) === 0);
  });

  it("a thread that dies is counted and started again; every event arrives exactly once", async () => {
    await open();
    await sign(3, [1, 2, 3]);
    await readStream(nc, stream, 9);
    const first = publisher!.threadId;
    await publisher!.kill();
    expect(publisher!.status().connected).toBe(false);
    expect(publisher!.status().lastError).not.toBeNull();
    expect(await value(metrics.restarts)).toBe(1);
    // decisions while no thread runs wait in the outbox
    await sign(3, [4, 5, 6]);
    await until(() => publisher!.status().connected);
    expect(publisher!.threadId).not.toBe(first);
    await sign(3, [7, 8]);
    const got = await readStream(nc, stream, 24);
    expect(got).toHaveLength(24);
    expect(new Set(got.map((m) => m.msgId)).size).toBe(24);
    const targets = got
      .filter((m) => m.subject === `${prefix}.sign.ethereum.0x${Buffer.from(pubkey(2)).toString("hex")}`)
      .map((m) => Number((m.json.request as { target_epoch: string }).target_epoch));
    expect(targets).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await until(async () => (await outbox()) === 0);
    // the new thread's acknowledgements reach this thread's registry (the killed one may not have reported
    // its last ones)
    await until(async () => (await value(metrics.published)) >= 15);
    expect(await value(metrics.restarts)).toBe(1);
  });
});

markNatsSkipped("publisher thread");
