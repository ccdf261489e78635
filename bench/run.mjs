// `npm run bench -- NAME [flags]`: runs bench/NAME.ts under tsx with the flags; without a name, lists them.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const BENCHES = {
  cometbft: "CometBFT vote signing over privval",
  dashboard: "dashboard",
  doppelganger: "Ethereum foreign-signer pass",
  events: "signing decisions with the message bus on",
  hsm: "Ed25519 in a PKCS#11 token",
  ingestSlices: "event-loop delay by ingest slice size",
  interchangeImport: "EIP-3076 interchange import",
  keyCache: "signer restart with the key cache",
  monitor: "fleet monitor",
  pgHa: "PostgreSQL primary + synchronous standby: throughput and failover time (issue 17)",
  protection: "Ethereum slashing protection, SQLite and PostgreSQL",
  signer: "Ethereum remote signer",
  substrate: "Substrate remote signer",
  threshold: "threshold signing",
  upIngest: "agent reports under slashguard up",
};
const [name, ...rest] = process.argv.slice(2);
const files = new Set(
  readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "lib.ts")
    .map((f) => f.slice(0, -3)),
);
if (name === undefined || !files.has(name)) {
  if (name !== undefined) console.error(`no benchmark ${name}`);
  console.log("usage: npm run bench -- NAME [flags]\n");
  for (const f of [...files].sort()) console.log(`  ${f.padEnd(18)} ${BENCHES[f] ?? ""}`);
  process.exit(name === undefined ? 0 : 2);
}
const r = spawnSync(process.execPath, ["--import", "tsx", `${dir}${name}.ts`, ...rest], { stdio: "inherit" });
process.exit(r.status ?? 1);
