/**
 * Interchange import time and peak memory: N validators x 250 attestations + 10 blocks, on SQLite and
 * PostgreSQL, beside @lodestar/validator 1.5.1 importing the same file. Each import runs in its own
 * process; a file half as large shows whether memory grows with the file.
 *
 * Runs the built CLI (npm run build first).
 *
 *   node --import tsx bench/interchangeImport.ts [--validators 10000] [--peer-validators 2000] [--engines sqlite,postgres] [--no-peer]
 */
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { arg, freshPg, machine, table } from "./lib.js";

const N = Number(arg("validators", "10000"));
const ENGINES = arg("engines", "sqlite,postgres").split(",");
const REPO = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "sg-import-bench-"));

async function writeFile(path: string, validators: number): Promise<void> {
  const out = createWriteStream(path);
  const w = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, "drain");
  };
  await w(`{"metadata":{"interchange_format_version":"5","genesis_validators_root":"0x${"00".repeat(32)}"},"data":[`);
  for (let v = 0; v < validators; v++) {
    const pk = `0xa0${"00".repeat(43)}${v.toString(16).padStart(8, "0")}`;
    const root = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;
    const blocks = Array.from(
      { length: 10 },
      (_, i) => `{"slot":"${1000 + i * 32}","signing_root":"${root(v * 16 + i)}"}`,
    );
    const atts = Array.from(
      { length: 250 },
      (_, e) => `{"source_epoch":"${1000 + e}","target_epoch":"${1001 + e}","signing_root":"${root(v * 1000 + e)}"}`,
    );
    await w(
      `${v === 0 ? "" : ","}{"pubkey":"${pk}","signed_blocks":[${blocks.join(",")}],"signed_attestations":[${atts.join(",")}]}`,
    );
  }
  await w("]}");
  out.end();
  await once(out, "finish");
}

/** Runs one import as its own process under /usr/bin/time: wall seconds and peak RSS of exactly that process. */
function run(who: string, url: string, file: string): { seconds: number; maxRssMb: number } {
  const cmd =
    who === "slashguard"
      ? [
          join(REPO, "dist", "cli", "main.js"),
          "protection",
          "import",
          "--db",
          url,
          "--genesis-validators-root",
          `0x${"00".repeat(32)}`,
          file,
        ]
      : [join(import.meta.dirname, "peer", "importLodestar.mjs"), url, file];
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %M", process.execPath, ...cmd], { encoding: "utf8" });
  const m = /TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${who} import failed: ${r.stderr}`);
  return { seconds: Number(m[1]), maxRssMb: Number(m[2]) / 1024 };
}

// lodestar's import grows faster than linearly (its min-max surround store); at 10,000 validators it
// runs for the better part of an hour, so by default the peer imports a smaller file, which slashguard
// then imports too, side by side.
const PEER_N = Number(arg("peer-validators", "2000"));

try {
  const full = join(dir, "full.json");
  const half = join(dir, "half.json");
  const small = join(dir, "peer.json");
  await writeFile(full, N);
  await writeFile(half, Math.floor(N / 2));
  await writeFile(small, PEER_N);
  const mb = (f: string): string => `${(statSync(f).size / 1e6).toFixed(0)} MB`;
  const rows: (string | number)[][] = [];
  for (const [label, file, withPeer] of [
    [`${N} validators`, full, PEER_N === N],
    [`${Math.floor(N / 2)} validators`, half, false],
    ...(PEER_N === N ? [] : ([[`${PEER_N} validators`, small, true]] as const)),
  ] as const) {
    for (const engine of ENGINES) {
      const db =
        engine === "postgres"
          ? await freshPg("ibench")
          : { url: `sqlite:${join(dir, `${engine}-${label.length}-${Date.now()}.db`)}`, drop: async () => {} };
      const r = run("slashguard", db.url, file);
      rows.push([`slashguard ${engine}`, `${label} (${mb(file)})`, r.seconds, r.maxRssMb]);
      await db.drop();
    }
    if (withPeer && !process.argv.includes("--no-peer")) {
      const r = run("lodestar", join(dir, `level-${label.length}`), file);
      rows.push(["@lodestar/validator 1.5.1 (LevelDB)", `${label} (${mb(file)})`, r.seconds, r.maxRssMb]);
    }
  }
  console.log(`\nEIP-3076 import: validators x (250 attestations + 10 blocks)\nmachine: ${machine()}\n`);
  console.log(table(["implementation", "file", "seconds", "peak RSS MB"], rows));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
