/**
 * Signing latency with the message bus on (--events: outbox row in the decision's transaction, a publisher
 * thread draining it to NATS JetStream) beside off, in the same run, alternating off/on rounds so that
 * machine load hits both alike. Two tables:
 *
 * 1. protection only, in this process, at saturation: every slot of an epoch sends N/32 concurrent
 *    attestations (distinct keys) and waits for them, slot after slot. Modes: off; the outbox row written
 *    but no publisher; on (the publisher in its own thread, as the signer runs it); on with the publisher
 *    in the signing thread (how it ran before).
 * 2. the real signer process (`slashguard signer` from dist/, HTTP + BLS signing), events off vs on:
 *    "paced" sends a slot's attestations (N/32 at once) every --slot-ms (a mainnet slot shortened), for
 *    --slots slots; "saturated" keeps 256 requests in flight for N requests.
 *
 *   npm run build && node --import tsx bench/events.ts [--validators 2000] [--epochs 2] [--rounds 2]
 *     [--engines sqlite,postgres] [--nats nats://127.0.0.1:4222] [--signer-validators 10000] [--slot-ms 1000]
 *     [--slots 32] [--only protection|signer] [--modes off,outbox,on,inline]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { Registry } from "prom-client";
import { Agent, request, setGlobalDispatcher } from "undici";
import { createEventMetrics } from "../src/events/metrics.js";
import { NatsBus } from "../src/events/natsBus.js";
import { type EventPublisher, OutboxPublisher } from "../src/events/outboxPublisher.js";
import { OutboxSink } from "../src/events/outboxSink.js";
import { PublisherThread } from "../src/events/publisherThread.js";
import { EthereumProtection } from "../src/protection/ethereum/ethereumProtection.js";
import { openStore } from "../src/store/openStore.js";
import { nullLogger } from "../src/util/logger.js";
import { arg, cpuSeconds, freshPg, machine, now, stats, table } from "./lib.js";
import { body, closedLoop, keysDir, post, startSigner } from "./signerProcess.js";

const N = Number(arg("validators", "2000"));
const EPOCHS = Number(arg("epochs", "2"));
const ROUNDS = Number(arg("rounds", "2"));
const ENGINES = arg("engines", "sqlite,postgres").split(",");
const NATS = arg("nats", "nats://127.0.0.1:4222");
const SIGNER_N = Number(arg("signer-validators", "10000"));
const SLOT_MS = Number(arg("slot-ms", "1000"));
const PACED_SLOTS = Number(arg("slots", "32"));
const ONLY = arg("only", "");
const SLOTS = 32;
const IN_FLIGHT = 256;

setGlobalDispatcher(new Agent({ connections: 512, pipelining: 1, keepAliveTimeout: 60_000 }));

interface Result {
  rate: number;
  p50: number;
  p99: number;
  count: number;
  /** signer process: cores it kept busy */
  cores?: number;
}

const key = (i: number): Uint8Array => {
  const p = new Uint8Array(48);
  p[0] = 0xa0;
  new DataView(p.buffer).setUint32(44, i);
  return p;
};

/** Waits (up to a minute) until the stream holds `n` messages; returns how many it holds. */
async function streamCount(stream: string, n: number): Promise<number> {
  const nc = await connect({ servers: NATS });
  const jsm = await nc.jetstreamManager();
  const count = (): Promise<number> =>
    jsm.streams
      .info(stream)
      .then((i) => i.state.messages)
      .catch(() => 0);
  const end = Date.now() + 60_000;
  let c = await count();
  while (c < n && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    c = await count();
  }
  await nc.close();
  return c;
}

async function dropStream(stream: string): Promise<void> {
  const nc = await connect({ servers: NATS });
  await (await nc.jetstreamManager()).streams.delete(stream).catch(() => {});
  await nc.close();
}

/**
 * Table 1: protection only, in this process. mode: off | outbox (the row written, no publisher) | on (the
 * publisher thread) | inline (the publisher in the signing thread).
 */
async function protectionRun(engine: string, mode: string, tag: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "sg-bench-ev-"));
  const pg = engine === "postgres" ? await freshPg("events") : null;
  const storeUrl = pg?.url ?? `sqlite:${join(dir, "sg.db")}`;
  const store = await openStore(storeUrl);
  const stream = `SGBENCH_${process.pid}_${tag}`;
  const prefix = `sgbench_${process.pid}_${tag}`;
  const metrics = createEventMetrics(new Registry());
  const sink =
    mode === "off"
      ? null
      : new OutboxSink({ subjectPrefix: prefix, instance: "bench" }, { logger: nullLogger, metrics });
  const opts = { maxBacklog: 10_000_000 };
  let publisher: EventPublisher | null = null;
  if (mode === "on")
    publisher = new PublisherThread(
      { storeUrl, bus: { url: NATS, stream, subjectPrefix: prefix }, publisher: opts, queueMax: 1 },
      { store, queue: null, logger: nullLogger, metrics, onFull: () => {} },
    );
  if (mode === "inline")
    publisher = new OutboxPublisher(opts, {
      store,
      bus: new NatsBus({ url: NATS, stream, subjectPrefix: prefix }, { logger: nullLogger }),
      logger: nullLogger,
      metrics,
      onFull: () => {},
    });
  if (sink !== null && publisher !== null) sink.onRecorded = () => publisher.poke();
  if (mode !== "outbox") {
    publisher?.start();
    // the thread's start-up (and the bus connection) is not part of the measurement
    const end = Date.now() + 30_000;
    while (publisher !== null && !publisher.status().connected && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
  }
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
  if (mode !== "off") await dropStream(stream);
  await store.close();
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
  return { rate: lat.length / secs, count: lat.length, ...stats(lat) };
}

/** A slot's attestations (N/32, distinct keys) at once every SLOT_MS, for PACED_SLOTS slots. */
async function paced(url: string, keys: string[], epoch: number): Promise<Result> {
  const lat: number[] = [];
  const per = Math.ceil(keys.length / SLOTS);
  const t0 = now();
  for (let s = 0; s < PACED_SLOTS; s++) {
    const slot = s % SLOTS;
    const e = epoch + Math.floor(s / SLOTS);
    const wait = t0 + s * SLOT_MS - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await Promise.all(
      keys.slice(slot * per, (slot + 1) * per).map(async (k, j) => {
        const t = now();
        await post(url, k, body(slot * per + j, e));
        lat.push(now() - t);
      }),
    );
  }
  return { rate: lat.length / ((now() - t0) / 1000), count: lat.length, ...stats(lat) };
}

/** A closed loop keeping IN_FLIGHT requests in flight, each key once per epoch, for `total` requests. */
async function saturated(url: string, keys: string[], epoch: number, total: number): Promise<Result> {
  return { ...(await closedLoop(url, keys, epoch, total, IN_FLIGHT)), count: total };
}

async function withCores(pid: number, work: () => Promise<Result>): Promise<Result> {
  const c0 = cpuSeconds(pid);
  const t0 = now();
  const r = await work();
  return { ...r, cores: (cpuSeconds(pid) - c0) / ((now() - t0) / 1000) };
}

/** Table 2: the signer process, events off or on; returns the paced and the saturated workload. */
async function signerRun(
  engine: string,
  events: boolean,
  keysPath: string,
  tag: string,
): Promise<{ paced: Result; saturated: Result; published: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), "sg-bench-evs-"));
  const pg = engine === "postgres" ? await freshPg("evsigner") : null;
  const stream = `SGBENCHS_${process.pid}_${tag}`;
  const prefix = `sgbenchs_${process.pid}_${tag}`;
  const { proc, url } = await startSigner(
    pg?.url ?? `sqlite:${join(dir, "s.db")}`,
    keysPath,
    19000 + Math.floor(Math.random() * 1000),
    join(dir, "token"),
    events ? ["--events", NATS, "--events-stream", stream, "--events-subject-prefix", prefix] : [],
  );
  try {
    const keys = (await (await request(`${url}/api/v1/eth2/publicKeys`)).body.json()) as string[];
    const pacedEpochs = Math.ceil(PACED_SLOTS / SLOTS);
    const a = await withCores(proc.pid!, () => paced(url, keys, 10));
    const b = await withCores(proc.pid!, () => saturated(url, keys, 10 + pacedEpochs, keys.length));
    // every decision's event reached the stream (checked before the signer stops)
    const published = events ? await streamCount(stream, keys.length + a.count) : null;
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    if (events) await dropStream(stream);
    return { paced: a, saturated: b, published };
  } finally {
    if (proc.exitCode === null) {
      proc.kill("SIGKILL");
      await new Promise((r) => proc.once("exit", r));
    }
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const LABELS: Record<string, string> = {
  off: "events off",
  outbox: "outbox row only, no publisher",
  on: "events on (publisher thread)",
  inline: "events on (publisher inline, before)",
};
const avg = (xs: Result[], f: (x: Result) => number): number => xs.reduce((a, x) => a + f(x), 0) / xs.length;
const ratio = (on: number, off: number): string => `${((100 * on) / off).toFixed(0)}%`;
/** A row's rate, p50, p99 (mean over its runs) and, beside the events-off runs, p50 and p99 as a share of theirs. */
function latencyCells(xs: Result[], off: Result[] | null): (string | number)[] {
  const p50 = avg(xs, (x) => x.p50);
  const p99 = avg(xs, (x) => x.p99);
  return [
    Math.round(avg(xs, (x) => x.rate)),
    p50.toFixed(2),
    p99.toFixed(2),
    off === null
      ? "-"
      : ratio(
          p50,
          avg(off, (x) => x.p50),
        ),
    off === null
      ? "-"
      : ratio(
          p99,
          avg(off, (x) => x.p99),
        ),
  ];
}

const protectionRows: (string | number)[][] = [];
if (ONLY !== "signer") {
  const modes = arg("modes", "off,outbox,on,inline").split(",");
  for (const engine of ENGINES) {
    const acc: Record<string, Result[]> = { off: [], outbox: [], on: [], inline: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // alternating order: each mode runs first in some round
      const order = modes.map((_, i) => modes[(i + r) % modes.length]!);
      for (const mode of order) acc[mode]!.push(await protectionRun(engine, mode, `${engine}${r}${mode}`));
    }
    const off = acc.off!;
    for (const mode of modes) {
      const xs = acc[mode]!;
      protectionRows.push([engine, LABELS[mode] ?? mode, ...latencyCells(xs, mode === "off" ? null : off)]);
    }
  }
}

const signerRows: (string | number)[][] = [];
if (ONLY !== "protection") {
  const keysPath = await keysDir(SIGNER_N);
  for (const engine of ENGINES) {
    const acc: Record<string, { paced: Result[]; saturated: Result[]; published: number[] }> = {
      off: { paced: [], saturated: [], published: [] },
      on: { paced: [], saturated: [], published: [] },
    };
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of r % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
        const x = await signerRun(engine, mode === "on", keysPath, `${engine}${r}${mode}`);
        acc[mode]!.paced.push(x.paced);
        acc[mode]!.saturated.push(x.saturated);
        if (x.published !== null) acc[mode]!.published.push(x.published);
      }
    }
    for (const w of ["paced", "saturated"] as const) {
      for (const mode of ["off", "on"]) {
        const xs = acc[mode]![w];
        const off = acc.off![w];
        const pub = acc[mode]!.published;
        signerRows.push([
          engine,
          w === "paced"
            ? `paced: ${Math.ceil(SIGNER_N / SLOTS)} every ${SLOT_MS} ms`
            : `saturated: ${IN_FLIGHT} in flight`,
          `events ${mode}`,
          ...latencyCells(xs, mode === "off" ? null : off),
          avg(xs, (x) => x.cores ?? 0).toFixed(2),
          pub.length === 0 ? "-" : `${Math.round(pub.reduce((a, b) => a + b, 0) / pub.length)}`,
        ]);
      }
    }
  }
}

console.log(`\nmachine: ${machine()}`);
if (protectionRows.length > 0) {
  console.log(`\nProtection only (this process), ${N} validators, ${EPOCHS} epochs, ${ROUNDS} alternating rounds\n`);
  console.log(table(["engine", "mode", "decisions/s", "p50 ms", "p99 ms", "p50 on/off", "p99 on/off"], protectionRows));
}
if (signerRows.length > 0) {
  console.log(
    `\nSigner process over HTTP (BLS signing), ${SIGNER_N} validators, ${ROUNDS} alternating rounds; ` +
      `paced: ${PACED_SLOTS} slots; saturated: ${SIGNER_N} requests; events in stream: per run (of paced + saturated requests)\n`,
  );
  console.log(
    table(
      [
        "engine",
        "workload",
        "mode",
        "signatures/s",
        "p50 ms",
        "p99 ms",
        "p50 on/off",
        "p99 on/off",
        "signer cores",
        "events in stream",
      ],
      signerRows,
    ),
  );
}
