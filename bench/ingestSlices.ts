/**
 * How long one report holds the event loop on SQLite, by ingest slice size: reports that swap a set of
 * Ethereum keys back and forth go through the monitor's ingestion (detection and alerts wired as
 * `startMonitor` wires them) while the event loop's delay is sampled every millisecond. The longest
 * delay is the longest a signing request would wait behind ingestion; "one transaction" is the code
 * before slicing (the peer).
 *
 *   node --import tsx bench/ingestSlices.ts [--keys 5200] [--reports 6] [--slices 100,250,500,1000,Infinity]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { AlertService } from "../src/alerts/alertService.js";
import { AlertRouter } from "../src/alerts/router.js";
import { DEFAULT_DETECT_OPTIONS } from "../src/detect/types.js";
import { IngestService } from "../src/fleet/ingestService.js";
import { parseReport } from "../src/fleet/reportFormat.js";
import { ingestHooks } from "../src/monitor/ingestHooks.js";
import { ownersRepository } from "../src/store/fleet/ownersRepository.js";
import { openStore } from "../src/store/openStore.js";
import { nullLogger } from "../src/util/logger.js";
import { arg, machine, now, table } from "./lib.js";

const KEYS = Number(arg("keys", "5200"));
const REPORTS = Number(arg("reports", "6"));
const SLICES = arg("slices", "100,250,500,1000,Infinity").split(",").map(Number);

const ekey = (set: number, i: number): string => `0x${set + 1}${i.toString(16).padStart(95, "0")}`;
function report(set: number) {
  const source = "ethereum:http://127.0.0.1:5062";
  return parseReport({
    version: 1,
    host: "churn-host",
    agent_version: "bench",
    interval_ms: 15_000,
    observed_at: Date.now(),
    sources: [{ id: source, chain: "ethereum", reachable: true }],
    keys: Array.from({ length: KEYS }, (_, i) => ({
      chain: "ethereum",
      pubkey: ekey(set, i),
      key_type: "bls",
      source,
      facts: { source: "local", signer_url: null, readonly: false },
    })),
  });
}

async function run(sliceRows: number): Promise<(string | number)[]> {
  const dir = mkdtempSync(join(tmpdir(), "sg-slices-"));
  const store = await openStore(`sqlite:${join(dir, "db.sqlite")}`);
  try {
    const alerts = new AlertService(
      { dedupWindowMs: 86_400_000, resolveAfterMs: 30_000 },
      {
        store,
        router: new AlertRouter([]),
        logger: nullLogger,
      },
    );
    const ingest = new IngestService(
      { sliceRows },
      {
        store,
        logger: nullLogger,
        hooks: ingestHooks(alerts, DEFAULT_DETECT_OPTIONS.keyMovedWindowMs),
      },
    );
    const ownerId = await store.tx((tx) => ownersRepository.upsertOwner(tx, "o", Date.now()));
    const auth = { tokenId: 1, ownerId, ownerName: "o", role: "agent" as const };
    const reports = [report(0), report(1)];
    await ingest.ingest(auth, reports[1]!);
    let transactions = 0;
    const tx0 = store.tx.bind(store);
    store.tx = ((fn, o) => {
      transactions++;
      return tx0(fn, o);
    }) as typeof store.tx;
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = now();
    for (let i = 0; i < REPORTS; i++) await ingest.ingest(auth, reports[i % 2]!);
    const secs = (now() - t0) / 1000;
    h.disable();
    await ingest.close();
    return [
      Number.isFinite(sliceRows) ? sliceRows : "one transaction (peer)",
      h.percentile(99) / 1e6,
      h.max / 1e6,
      transactions / REPORTS,
      (secs * 1000) / REPORTS,
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const s of SLICES) rows.push(await run(s));
  console.log(`\n${machine()}; ${REPORTS} reports, each swapping ${KEYS} Ethereum keys (${2 * KEYS} rows change)\n`);
  console.log(
    table(["slice (key rows)", "loop delay p99 ms", "loop delay max ms", "transactions / report", "ms / report"], rows),
  );
}

await main();
