import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { CLI } from "../utils/cli.js";
import {
  DEPLOY_DIR,
  dashboardQueries,
  ExampleRoot,
  httpsRequest,
  type Job,
  markToolsSkipped,
  metricFamilies,
  metricNamesIn,
  startJob,
  toolsMissing,
  unknownMetrics,
  writeFailoverExample,
  writeSignerTls,
} from "../utils/deploy.js";
import { attestationRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { writeValidatorKey } from "../utils/failover/keys.js";
import { freePort } from "../utils/failover/ports.js";
import { FakeBeaconNode } from "../utils/fakeBeacon.js";
import { runCli, until } from "../utils/processes.js";
import { harmonyKey, hkey, report } from "../utils/reports.js";
import { generateTestKeys } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { REPO_ROOT } from "../utils/vectors.js";

/**
 * deploy/prometheus/slashguard.rules.yml and deploy/grafana/slashguard.json against the real thing:
 * promtool's checks and the rules' unit tests, then Debian's Prometheus server on loopback scraping a
 * real signer (TLS with a client allow-list, as prometheus.example.yml scrapes it), a monitor and a
 * failover daemon. The test provokes a double-vote refusal, a store failure (another process holds the
 * SQLite write lock), a key active on two hosts and a doppelganger, and waits for each alert to fire in
 * Prometheus's own API. Every metric the rules and the dashboard name must be in the live /metrics.
 * Scrape and evaluation run every second, so the whole file takes well under a minute on a quiet machine.
 */

const run = promisify(execFile);
const RULES = join(DEPLOY_DIR, "prometheus", "slashguard.rules.yml");
const RULES_TEST = join(DEPLOY_DIR, "prometheus", "slashguard.rules.test.yml");
const DASHBOARD = join(DEPLOY_DIR, "grafana", "slashguard.json");
const rulesDoc = parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] };
const ruleExprs = rulesDoc.groups.flatMap((g) => g.rules.map((r) => r.expr));
const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as unknown;

const missing = toolsMissing("prometheus", "promtool");
markToolsSkipped("Prometheus rules and alerts", missing);

/** Label values the rules match on (code, kind, reason, …), each of which the code must still produce. */
function matchedLabelValues(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of ruleExprs) {
    for (const m of e.matchAll(/\b(code|kind|reason|outcome|status|result|state|signal|role)=~?"([^"]+)"/g)) {
      const set = out.get(m[1]!) ?? new Set<string>();
      for (const v of m[2]!.split("|")) set.add(v);
      out.set(m[1]!, set);
    }
  }
  return out;
}

function sourceText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith(".ts"))
    .map((f) => readFileSync(join(f.parentPath, f.name), "utf8"))
    .join("\n");
}

describe.skipIf(missing !== null)("Prometheus rules and the Grafana dashboard", () => {
  it("promtool check rules and the rules' unit tests pass", async () => {
    const check = await run("promtool", ["check", "rules", RULES]);
    expect(check.stdout).toContain("SUCCESS");
    const unit = await run("promtool", ["test", "rules", RULES_TEST], { cwd: join(DEPLOY_DIR, "prometheus") });
    expect(unit.stdout).toContain("SUCCESS");
  });

  it("every label value the rules match on is still produced by the code", () => {
    const src = sourceText(join(REPO_ROOT, "src"));
    const gone: string[] = [];
    for (const [label, values] of matchedLabelValues()) {
      for (const v of values) if (!src.includes(`"${v}"`) && !src.includes(`'${v}'`)) gone.push(`${label}=${v}`);
    }
    expect(gone).toEqual([]);
  });

  describe("a real Prometheus scraping a signer, a monitor and a failover daemon", () => {
    let t: { dir: string; cleanup: () => void };
    let root: ExampleRoot;
    const jobs: Job[] = [];
    let bn: FakeBeaconNode;
    let twinLive: NodeJS.Timeout | undefined;
    let promUrl = "";
    let signerUrl = "";
    let monitorUrl = "";
    let failoverUrl = "";
    let tls: ReturnType<typeof writeSignerTls>;
    let good = "";
    let twin = "";
    let signerDb = "";
    let monitorDb = "";

    afterAll(async () => {
      clearInterval(twinLive);
      for (const j of jobs.reverse()) await j.stop();
      await bn?.stop();
      t?.cleanup();
    });

    const signerGet = async (path: string): Promise<any> =>
      JSON.parse((await httpsRequest(`${signerUrl}${path}`, { ca: tls.ca, client: tls.vc })).text);
    const sign = async (key: string, body: unknown) => {
      const r = await httpsRequest(`${signerUrl}/api/v1/eth2/sign/${key}`, { ca: tls.ca, client: tls.vc }, { body });
      return { status: r.status, json: JSON.parse(r.text) as { code?: string; signature?: string } };
    };
    const prom = async (path: string): Promise<any> => (await fetch(`${promUrl}${path}`)).json();
    const firing = async (): Promise<{ labels: Record<string, string> }[]> =>
      ((await prom("/api/v1/alerts")).data.alerts as { state: string; labels: Record<string, string> }[]).filter(
        (a) => a.state === "firing",
      );
    const waitFiring = (alertname: string, labels: Record<string, string> = {}) =>
      until(
        async () =>
          (await firing()).find(
            (a) => a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
          ),
        `alert ${alertname} ${JSON.stringify(labels)} firing`,
        90_000,
      );

    beforeAll(async () => {
      t = tempDir("sg-prom-");
      root = new ExampleRoot(t.dir);
      signerDb = join(t.dir, "signer.db");
      monitorDb = `sqlite:${join(t.dir, "monitor.db")}`;
      // a beacon chain in real time (1 s slots, 4 per epoch) for the doppelganger guard and the monitor
      bn = new FakeBeaconNode({
        genesisTimeSec: Math.floor(Date.now() / 1000) - 12,
        secondsPerSlot: 1,
        slotsPerEpoch: 4,
        genesisValidatorsRoot: TEST_GVR_HEX,
        now: Date.now,
      });
      await bn.start();
      const keys = await generateTestKeys(join(t.dir, "keys"), 2);
      good = keys[0]!;
      twin = keys[1]!;
      bn.validators = [good, twin].map((pubkey, index) => ({ index, pubkey }));
      // the twin signs somewhere else: live in every epoch
      twinLive = setInterval(() => bn.setLive(bn.currentEpoch(), 1), 200);

      tls = writeSignerTls(root);
      writeValidatorKey(join(t.dir, "comet_key.json"));
      const cometConfig = join(t.dir, "cometbft.yaml");
      writeFileSync(
        cometConfig,
        `chains:\n  - chain_id: test-1\n    key_file: ${join(t.dir, "comet_key.json")}\n    nodes: [tcp://127.0.0.1:${await freePort()}]\n`,
      );
      mkdirSync(join(t.dir, "substrate-keystore"));
      const node = [process.execPath, CLI];
      const signer = await startJob(
        node,
        [
          "signer",
          "--db",
          `sqlite:${signerDb}`,
          "--port",
          "0",
          "--log-level",
          "warn",
          "--network",
          "custom",
          "--genesis-validators-root",
          TEST_GVR_HEX,
          "--keystores",
          join(t.dir, "keys"),
          "--keymanager-token-file",
          join(t.dir, "km-token"),
          "--beacon-node",
          bn.url,
          "--tls-cert",
          join(tls.dir, "signer.crt"),
          "--tls-key",
          join(tls.dir, "signer.key"),
          "--tls-allowed-clients",
          join(tls.dir, "allowed-clients"),
          "--cometbft-config",
          cometConfig,
          "--substrate-keystore",
          join(t.dir, "substrate-keystore"),
          "--grpc-port",
          "0",
        ],
        { cwd: t.dir, ready: /^slashguard signer listening on (\S+)/ },
      );
      jobs.push(signer);
      signerUrl = /listening on (\S+)/.exec(signer.line)![1]!;

      const monitorConfig = join(t.dir, "monitor.yaml");
      writeFileSync(monitorConfig, "monitor:\n  sweep_interval: 500ms\n  resolve_after: 60s\n");
      const monitor = await startJob(
        node,
        ["monitor", "--db", monitorDb, "--port", "0", "--config", monitorConfig, "--beacon-node", bn.url],
        { cwd: t.dir, ready: /^slashguard monitor listening on (\S+)/ },
      );
      jobs.push(monitor);
      monitorUrl = /listening on (\S+)/.exec(monitor.line)![1]!;

      const fo = await writeFailoverExample(root);
      const failover = await startJob(node, ["failover", "--config", fo.config], {
        cwd: t.dir,
        ready: /^slashguard failover \S+ listening on (\S+)/,
      });
      jobs.push(failover);
      failoverUrl = /listening on (\S+)/.exec(failover.line)![1]!;

      // prometheus.example.yml with this test's targets and certificates, scraping every second
      const cfg = parse(readFileSync(join(DEPLOY_DIR, "prometheus", "prometheus.example.yml"), "utf8")) as {
        global?: object;
        rule_files: string[];
        scrape_configs: { job_name: string; tls_config?: object; static_configs: { targets: string[] }[] }[];
      };
      cfg.global = { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" };
      cfg.rule_files = [RULES];
      const hostPort = (u: string) => new URL(u).host;
      const targets: Record<string, string> = {
        "slashguard-signer": hostPort(signerUrl),
        "slashguard-monitor": hostPort(monitorUrl),
        "slashguard-failover": hostPort(failoverUrl),
      };
      expect(cfg.scrape_configs.map((s) => s.job_name).sort()).toEqual(Object.keys(targets).sort());
      for (const s of cfg.scrape_configs) {
        s.static_configs = [{ targets: [targets[s.job_name]!] }];
        if (s.tls_config !== undefined)
          s.tls_config = {
            ca_file: join(tls.dir, "ca.crt"),
            cert_file: join(tls.dir, "prometheus.crt"),
            key_file: join(tls.dir, "prometheus.key"),
          };
      }
      const promConfig = join(t.dir, "prometheus.yml");
      writeFileSync(promConfig, stringify(cfg));
      await run("promtool", ["check", "config", promConfig]);
      const promPort = await freePort();
      promUrl = `http://127.0.0.1:${promPort}`;
      const prometheus = await startJob(
        ["prometheus"],
        [
          `--config.file=${promConfig}`,
          `--storage.tsdb.path=${join(t.dir, "tsdb")}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          "--storage.tsdb.retention.time=1h",
          "--log.level=warn",
        ],
        { cwd: t.dir, ready: null },
      );
      jobs.push(prometheus);
      await until(
        async () => ((await fetch(`${promUrl}/-/ready`).catch(() => null))?.status === 200 ? true : undefined),
        `Prometheus ready: ${prometheus.output()}`,
      );
    });

    it("scrapes all three jobs", async () => {
      const targets = await until(async () => {
        const active = (await prom("/api/v1/targets")).data.activeTargets as {
          labels: { job: string };
          health: string;
          lastError: string;
        }[];
        return active.length === 3 && active.every((a) => a.health === "up") ? active : undefined;
      }, "three healthy targets");
      expect(targets.map((a) => a.labels.job).sort()).toEqual([
        "slashguard-failover",
        "slashguard-monitor",
        "slashguard-signer",
      ]);
      // nothing was refused and nothing failed yet
      const names = (await firing()).map((a) => a.labels.alertname);
      for (const a of ["SlashguardSlashableRefusal", "SlashguardStoreErrors", "SlashguardKeySigningTwice"])
        expect(names).not.toContain(a);
    });

    it("a double vote refused by the signer fires SlashguardSlashableRefusal", async () => {
      await until(async () => {
        const s = (await signerGet("/api/v1/eth2/doppelganger")).data as { pubkey: string; status: string }[];
        return s.find((k) => k.pubkey === good)?.status === "verified" ? true : undefined;
      }, "the good key verified by the doppelganger guard");
      expect((await sign(good, attestationRequest(1, 2, 1).body)).status).toBe(200);
      const refused = await sign(good, attestationRequest(1, 2, 2).body);
      expect(refused).toMatchObject({ status: 412, json: { code: "ERR_ATTESTATION_DOUBLE_VOTE" } });
      const alert = await waitFiring("SlashguardSlashableRefusal", { code: "ERR_ATTESTATION_DOUBLE_VOTE" });
      expect(alert.labels).toMatchObject({ job: "slashguard-signer", chain: "ethereum", severity: "critical" });
    });

    it("a store failure (another process holds the SQLite write lock) fires SlashguardStoreErrors", async () => {
      const blocker = new Database(signerDb);
      try {
        blocker.exec("BEGIN IMMEDIATE");
        const r = await sign(good, attestationRequest(2, 3, 1).body);
        expect(r.status).toBe(503);
        expect(r.json.code).toMatch(/^ERR_STORE_/);
      } finally {
        blocker.exec("ROLLBACK");
        blocker.close();
      }
      const alert = await waitFiring("SlashguardStoreErrors", { chain: "ethereum" });
      expect(alert.labels).toMatchObject({ job: "slashguard-signer", severity: "critical" });
      // the store is back: the same request is signed
      expect((await sign(good, attestationRequest(2, 3, 1).body)).status).toBe(200);
    });

    it("a key active on two hosts fires SlashguardKeySigningTwice", async () => {
      const token = (await runCli(["monitor", "token", "create", "--owner", "alice", "--db", monitorDb])).stdout.trim();
      for (const host of ["host-a", "host-b"]) {
        const r = await fetch(`${monitorUrl}/api/v1/agent/reports`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(report(host, [harmonyKey(hkey(5))])),
        });
        expect(r.status).toBe(202);
      }
      const alert = await waitFiring("SlashguardKeySigningTwice", { kind: "double_active" });
      expect(alert.labels).toMatchObject({ job: "slashguard-monitor", severity: "critical" });
    });

    it("a key live elsewhere fires SlashguardDoppelgangerDetected", async () => {
      const alert = await waitFiring("SlashguardDoppelgangerDetected");
      expect(alert.labels).toMatchObject({ job: "slashguard-signer", status: "doppelganger_detected" });
      const s = (await signerGet("/api/v1/eth2/doppelganger")).data as { pubkey: string; status: string }[];
      expect(s.find((k) => k.pubkey === twin)?.status).toBe("doppelganger_detected");
    });

    it("every metric the rules and the dashboard name exists in the live /metrics", async () => {
      const expositions = [
        (await httpsRequest(`${signerUrl}/metrics`, { ca: tls.ca, client: tls.prometheus })).text,
        await (await fetch(`${monitorUrl}/metrics`)).text(),
        await (await fetch(`${failoverUrl}/metrics`)).text(),
      ];
      const families = new Map(expositions.flatMap((e) => [...metricFamilies(e)]));
      const ruleNames = ruleExprs.flatMap(metricNamesIn);
      const dashboardNames = dashboardQueries(dashboard).flatMap(metricNamesIn);
      expect(ruleNames.length).toBeGreaterThan(10);
      expect(dashboardNames.length).toBeGreaterThan(30);
      expect({
        rules: unknownMetrics(ruleNames, families),
        dashboard: unknownMetrics(dashboardNames, families),
      }).toEqual({ rules: [], dashboard: [] });
    });

    it("every dashboard query is valid PromQL and most return data", async () => {
      const queries = dashboardQueries(dashboard).filter((q) => !q.startsWith("label_values("));
      let withData = 0;
      for (const q of queries) {
        const expr = q.replaceAll("$__rate_interval", "1m").replaceAll("$job", ".*").replaceAll("$instance", ".*");
        const r = (await prom(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as {
          status: string;
          error?: string;
          data?: { result: unknown[] };
        };
        expect(r, expr).toMatchObject({ status: "success" });
        if ((r.data?.result.length ?? 0) > 0) withData++;
      }
      // quantiles of never-observed histograms and rates of counters that never moved may be empty
      expect(withData).toBeGreaterThan(queries.length / 2);
    });
  });
});
