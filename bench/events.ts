/**
 * Signing-decision latency with the message bus on (--events: outbox row in the decision's transaction, a
 * publisher draining it to NATS JetStream) beside off, in the same run, alternating off/on rounds so that
 * machine load hits both alike.
 *
 *   node --import tsx bench/events.ts [--validators 2000] [--epochs 2] [--rounds 2] [--engines sqlite,postgres]
 *     [--nats nats://127.0.0.1:4222]
 *
 * Workload: every slot of an epoch sends N/32 concurrent attestations (distinct keys) and waits for them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { Registry } from "prom-client";
import { createEventMetrics } from "../src/events/metrics.js";
import { NatsBus } from "../src/events/natsBus.js";
import { OutboxPublisher } from "../src/events/outboxPublisher.js";
import { OutboxSink } from "../src/events/outboxSink.js";
import { EthereumProtection } from "../src/protection/ethereum/ethereumProtection.js";
import { openStore } from "../src/store/openStore.js";
import { nullLogger } from "../src/util/logger.js";
import { arg, freshPg, machine, now, stats, table } from "./lib.js";

const N = Number(arg("validators", "2000"));
const EPOCHS = Number(arg("epochs", "2"));
const ROUNDS = Number(arg("rounds", "2"));
const ENGINES = arg("engines", "sqlite,postgres").split(",");
const NATS = arg("nats", "nats://127.0.0.1:4222");
const SLOTS = 32;

const key = (i: number): Uint8Array => {
  const p = new Uint8Array(48);
  p[0] = 0xa0;
  new DataView(p.buffer).setUint32(44, i);
  return p;
};

async function run(engine: string, events: boolean, tag: string): Promise<{ rate: number; p50: number; p99: number }> {
  const dir = mkdtempSync(join(tmpdir(), "sg-bench-ev-"));
  const pg = engine === "postgres" ? await freshPg("events") : null;
  const store = await openStore(pg?.url ?? `sqlite:${join(dir, "sg.db")}`);
  const stream = `SGBENCH_${process.pid}_${tag}`;
  const prefix = `sgbench_${process.pid}_${tag}`;
  const metrics = createEventMetrics(new Registry());
  const sink = events
    ? new OutboxSink({ subjectPrefix: prefix, instance: "bench" }, { logger: nullLogger, metrics })
    : null;
  const publisher =
    sink === null
      ? null
      : new OutboxPublisher(
          { maxBacklog: 10_000_000, window: Number(arg("window", "256")), lingerMs: Number(arg("linger", "20")) },
          {
            store,
            bus: new NatsBus({ url: NATS, stream, subjectPrefix: prefix }, { logger: nullLogger }),
            logger: nullLogger,
            metrics,
            onFull: () => {},
          },
        );
  if (sink !== null && publisher !== null) sink.onRecorded = () => publisher.poke();
  if (!process.argv.includes("--no-publisher")) publisher?.start();
  const p = await EthereumProtection.open(
    { genesisValidatorsRoot: new Uint8Array(32) },
    { store, logger: nullLogger, events: sink },
  );
  await p.registerValidators(Array.from({ length: N }, (_, i) => key(i)));
  const lat: number[] = [];
  const per = Math.ceil(N / SLOTS);
  const t0 = now();
  for (let e = 10; e < 10 + EPOCHS; e++) {
    for (let s = 0; s < SLOTS; s++) {
      const reqs: Promise<void>[] = [];
      for (let i = s * per; i < Math.min(N, (s + 1) * per); i++) {
        const t = now();
        const root = new Uint8Array(32).fill(e & 0xff);
        reqs.push(
          p
            .checkAndRecord({
              kind: "attestation",
              pubkey: key(i),
              source: BigInt(e - 1),
              target: BigInt(e),
              signingRoot: root,
            })
            .then(() => void lat.push(now() - t)),
        );
      }
      await Promise.all(reqs);
    }
  }
  const secs = (now() - t0) / 1000;
  await p.close();
  await publisher?.stop();
  if (events) {
    const nc = await connect({ servers: NATS });
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => {});
    await nc.close();
  }
  await store.close();
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
  return { rate: lat.length / secs, ...stats(lat) };
}

const rows: (string | number)[][] = [];
for (const engine of ENGINES) {
  const acc: Record<string, { rate: number; p50: number; p99: number }[]> = { off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 === 0 ? ["off", "on"] : ["on", "off"])
      acc[mode]!.push(await run(engine, mode === "on", `${engine}${r}${mode}`));
  }
  for (const mode of ["off", "on"]) {
    const xs = acc[mode]!;
    const avg = (f: (x: { rate: number; p50: number; p99: number }) => number): number =>
      xs.reduce((a, x) => a + f(x), 0) / xs.length;
    rows.push([
      engine,
      `events ${mode}`,
      Math.round(avg((x) => x.rate)),
      avg((x) => x.p50).toFixed(2),
      avg((x) => x.p99).toFixed(2),
    ]);
  }
}
console.log(machine());
console.log(`${N} validators, ${EPOCHS} epochs, ${ROUNDS} alternating rounds per mode\n`);
console.log(table(["engine", "mode", "decisions/s", "p50 ms", "p99 ms"], rows));
