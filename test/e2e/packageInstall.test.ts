import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExampleRoot,
  httpsRequest,
  type Job,
  markToolsSkipped,
  startJob,
  toolsMissing,
  writeFailoverExample,
  writeSignerTls,
} from "../utils/deploy.js";
import { writeValidatorKey } from "../utils/failover/keys.js";
import { freePort } from "../utils/failover/ports.js";
import { FakeKeymanager } from "../utils/fakeNodes.js";
import { until } from "../utils/processes.js";
import { tempDir } from "../utils/stores.js";
import { call, keystoreClient } from "../utils/substrateSigner.js";
import { REPO_ROOT } from "../utils/vectors.js";

/**
 * The package as an operator gets it: `npm pack`, `npm install -g` into an empty prefix, and every job
 * started from the installed `slashguard` in a folder outside the repository, with the example configs
 * of deploy/etc/slashguard (only their paths and ports moved). Then the systemd units are verified
 * against the installed binary.
 *
 * Speed: the tarball is packed from the dist/ that `npm test` just built (`--ignore-scripts`: no second
 * build), and installed with `--prefer-offline` from the local npm cache. better-sqlite3's install
 * script compiles SQLite from source when no prebuilt binary can be downloaded (4-5 minutes on the
 * 2-core build machine, measured), so by default the install skips scripts and the test copies the
 * native binding of the same better-sqlite3 version from the repository's node_modules. Set
 * SLASHGUARD_PACKAGE_NATIVE_BUILD=1 to run the install scripts as an operator's npm does.
 */

const run = promisify(execFile);
const NATIVE_BUILD = process.env.SLASHGUARD_PACKAGE_NATIVE_BUILD === "1";
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };

describe("npm package", () => {
  const t = tempDir("sg-pkg-");
  const prefix = join(t.dir, "prefix");
  const bin = [join(prefix, "bin", "slashguard")];
  const installed = join(prefix, "lib", "node_modules", pkg.name);
  const outside = join(t.dir, "work"); // every job runs here: nowhere near the repository
  let packed: string[] = [];
  const jobs: Job[] = [];
  const servers: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const j of jobs.reverse()) await j.stop();
    for (const s of servers) await s.stop();
    t.cleanup();
  });

  beforeAll(async () => {
    mkdirSync(outside);
    const started = performance.now();
    const packOut = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", t.dir], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    });
    const info = JSON.parse(packOut.stdout) as { filename: string; files: { path: string }[] }[];
    packed = info[0]!.files.map((f) => f.path);
    const tarball = join(t.dir, info[0]!.filename);
    const packed_ = performance.now();
    await run(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel",
        "error",
        ...(NATIVE_BUILD ? [] : ["--ignore-scripts"]),
        tarball,
      ],
      { cwd: outside, maxBuffer: 64 << 20 },
    );
    const done = performance.now();
    console.info(
      `npm pack ${((packed_ - started) / 1000).toFixed(1)} s, npm install -g ${((done - packed_) / 1000).toFixed(1)} s`,
    );
    if (!NATIVE_BUILD) {
      const ours = join(REPO_ROOT, "node_modules", "better-sqlite3");
      const theirs = join(installed, "node_modules", "better-sqlite3");
      const version = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version as string;
      expect(version(theirs), "the package resolves the better-sqlite3 the repository builds").toBe(version(ours));
      mkdirSync(join(theirs, "build", "Release"), { recursive: true });
      copyFileSync(
        join(ours, "build", "Release", "better_sqlite3.node"),
        join(theirs, "build", "Release", "better_sqlite3.node"),
      );
    }
  });

  it("holds the built program, dashboard, migrations, proto, docs and deploy files, and no sources or tests", () => {
    const has = (p: string) => packed.includes(p);
    for (const f of ["dist/cli/main.js", "dist/web/index.html", "README.md", "docs/deploy.md", "package.json"])
      expect(has(f), f).toBe(true);
    expect(packed.some((f) => /^dist\/web\/assets\/.+\.js$/.test(f))).toBe(true);
    expect(has("dist/grpc/substrate-remote-keystore.proto")).toBe(true);
    for (const dialect of ["sqlite", "postgres"]) {
      for (const m of readdirSync(join(REPO_ROOT, "src", "store", "migrations", dialect)))
        expect(has(`dist/store/migrations/${dialect}/${m}`), m).toBe(true);
    }
    for (const unit of ["signer", "monitor", "agent", "failover"])
      expect(has(`deploy/systemd/slashguard-${unit}.service`)).toBe(true);
    for (const f of ["deploy/prometheus/slashguard.rules.yml", "deploy/grafana/slashguard.json"])
      expect(has(f), f).toBe(true);
    expect(packed.filter((f) => /^(src|test|web\/src|bench|scripts)\//.test(f) || f.includes("node_modules/"))).toEqual(
      [],
    );
  });

  it("`slashguard --version` and `slashguard up` run from the installed package", async () => {
    const v = await run(bin[0]!, ["--version"], { cwd: outside });
    expect(v.stdout.trim()).toBe(pkg.version);
    const upDir = join(outside, "up");
    mkdirSync(upDir);
    const up = await startJob(bin, ["up", "--port", "0"], { cwd: upDir, ready: /^slashguard is up: (\S+)/ });
    jobs.push(up);
    const url = /^slashguard is up: (\S+)/.exec(up.line)![1]!;
    expect((await fetch(`${url}/upcheck`)).status).toBe(200);
    expect((await fetch(`${url}/healthcheck`)).status).toBe(200);
    // the dashboard's assets come from the package's dist/web
    const html = await (await fetch(`${url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${url}${script}`)).status).toBe(200);
    expect(readdirSync(join(upDir, "data"))).toContain("slashguard.db");
    const upExit = await up.stop();
    expect(upExit, up.output().slice(-3000)).toBe(0);
  });

  describe("jobs with the example configs of deploy/etc/slashguard", () => {
    let root: ExampleRoot;
    let signerUrl = "";
    let monitorUrl = "";
    beforeAll(() => {
      root = new ExampleRoot(join(t.dir, "server"));
    });

    it("signer: signer.yaml (TLS with a client allow-list) plus cometbft.yaml and a Substrate keystore", async () => {
      const tls = writeSignerTls(root);
      const keys = await run(
        bin[0]!,
        ["keys", "generate", "--count", "2", "--out", root.state("signer/keys"), "--kdf", "pbkdf2", "--kdf-work", "16"],
        { cwd: outside },
      );
      const pubkeys = keys.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]!);
      mkdirSync(root.state("signer/cometbft"), { recursive: true });
      writeValidatorKey(root.state("signer/cometbft/priv_validator_key.json"));
      mkdirSync(root.state("signer/substrate-keystore"), { recursive: true });
      const deadNode = `tcp://127.0.0.1:${await freePort()}`;
      const cometbft = root.writeExample("cometbft.yaml", [
        ["tcp://10.0.1.10:26659", deadNode],
        ["      - tcp://10.0.1.11:26659\n", ""],
      ]);
      const config = root.writeExample("signer.yaml", [["port: 9000", "port: 0"]]);
      const signer = await startJob(
        bin,
        [
          "signer",
          "--config",
          config,
          "--cometbft-config",
          cometbft,
          "--substrate-keystore",
          root.state("signer/substrate-keystore"),
          "--grpc-port",
          "0",
        ],
        { cwd: outside, ready: /^slashguard signer listening on (\S+)/ },
      );
      jobs.push(signer);
      // signer.yaml binds every interface: the line shows the address bound; the test connects over loopback
      expect(signer.line).toMatch(/listening on https:\/\/0\.0\.0\.0:[0-9]+ /);
      signerUrl = /listening on (\S+)/.exec(signer.line)![1]!.replace("//0.0.0.0:", "//127.0.0.1:");
      expect(signerUrl).toMatch(/^https:\/\//);
      const vc = { ca: tls.ca, client: tls.vc };
      expect((await httpsRequest(`${signerUrl}/upcheck`, vc)).status).toBe(200);
      expect((await httpsRequest(`${signerUrl}/upcheck`, { ca: tls.ca, client: null })).status).toBe(403);
      expect(JSON.parse((await httpsRequest(`${signerUrl}/api/v1/eth2/publicKeys`, vc)).text).sort()).toEqual(
        pubkeys.sort(),
      );
      const health = JSON.parse((await httpsRequest(`${signerUrl}/healthcheck`, vc)).text) as {
        checks: Record<string, unknown>;
      };
      expect(Object.keys(health.checks)).toEqual(expect.arrayContaining(["store", "ethereum.keys"]));
      expect(signer.output()).toContain(`cometbft:`);
      // the gRPC service loaded the proto the package ships, and answers a client built from it
      const grpcAddress = /gRPC RemoteKeystore listening on (\S+)/.exec(signer.output())?.[1];
      expect(grpcAddress).toBeDefined();
      const proto = join(installed, "dist", "grpc", "substrate-remote-keystore.proto");
      const client = keystoreClient(grpcAddress!, proto, "RemoteKeystore");
      try {
        const r = await call(client, "Ed25519PublicKeys", { key_type: "gran" });
        expect("reply" in r && r.reply.public_keys).toEqual([]);
      } finally {
        client.close();
      }
    });

    it("monitor: monitor.yaml", async () => {
      writeFileSync(root.etc("pagerduty.key"), "test-routing-key\n", { mode: 0o600 });
      const config = root.writeExample("monitor.yaml", [["port: 9100", "port: 0"]]);
      const monitor = await startJob(bin, ["monitor", "--config", config], {
        cwd: outside,
        ready: /^slashguard monitor listening on (\S+)/,
      });
      jobs.push(monitor);
      monitorUrl = /listening on (\S+)/.exec(monitor.line)![1]!;
      expect((await fetch(`${monitorUrl}/upcheck`)).status).toBe(200);
      expect((await fetch(`${monitorUrl}/healthcheck`)).status).toBe(200);
      expect(readdirSync(root.state("monitor"))).toContain("slashguard.db");
    });

    it("agent: agent.env, once and as a daemon reporting to the monitor", async () => {
      expect(monitorUrl).not.toBe("");
      const db = `sqlite:${root.state("monitor/slashguard.db")}`;
      const token = async (role: string) =>
        (
          await run(bin[0]!, ["monitor", "token", "create", "--owner", "alice", "--role", role, "--db", db])
        ).stdout.trim();
      writeFileSync(root.etc("agent.token"), `${await token("agent")}\n`, { mode: 0o600 });
      const operator = await token("operator");
      const vcToken = "vc-api-token-0123456789";
      writeFileSync(root.etc("vc-api-token"), vcToken);
      const km = new FakeKeymanager(vcToken);
      const key = `0x${"a1".repeat(48)}`;
      km.keystores = [{ validating_pubkey: key, derivation_path: "m/12381/3600/0/0/0", readonly: false }];
      const kmUrl = await km.start();
      servers.push(km);
      const envFile = root.writeExample("agent.env", [
        ["https://monitor.example:9100", monitorUrl],
        ["http://127.0.0.1:5062", kmUrl],
      ]);
      const args = /^SLASHGUARD_AGENT_ARGS="(.*)"$/m.exec(readFileSync(envFile, "utf8"))![1]!.split(" ");
      const once = await run(bin[0]!, ["agent", ...args, "--once"], { cwd: outside });
      const report = JSON.parse(once.stdout) as { host: string; keys: { pubkey: string }[] };
      expect(report.host).toBe("validator-1");
      expect(report.keys.map((k) => k.pubkey)).toEqual([key]);

      // the agent prints nothing while it runs: the monitor tells that it works
      jobs.push(await startJob(bin, ["agent", ...args], { cwd: outside, ready: null }));
      const hosts = await until(async () => {
        const r = await fetch(`${monitorUrl}/api/v1/hosts`, { headers: { authorization: `Bearer ${operator}` } });
        const data = ((await r.json()) as { data: { name: string }[] }).data;
        return data.some((h) => h.name === "validator-1") ? data : undefined;
      }, "the agent's first report");
      expect(hosts.map((h) => h.name)).toEqual(["validator-1"]);
    });

    it("failover: failover.yaml (a SQLite lease and stand-in node commands)", async () => {
      const { config } = await writeFailoverExample(root);
      const failover = await startJob(bin, ["failover", "--config", config], {
        cwd: outside,
        ready: /^slashguard failover \S+ listening on (\S+)/,
      });
      jobs.push(failover);
      const url = /listening on (\S+)/.exec(failover.line)![1]!;
      const status = (await (await fetch(`${url}/status`)).json()) as { role: string };
      expect(status.role).toBe("passive");
      expect(await (await fetch(`${url}/metrics`)).text()).toContain("slashguard_failover_role");
    });
  });

  const missing = toolsMissing("systemd-analyze");
  markToolsSkipped("systemd units", missing);
  it.skipIf(missing !== null)(
    "systemd units verify against the installed binary (systemd-analyze verify, offline security score)",
    async () => {
      const dir = join(t.dir, "units");
      mkdirSync(join(dir, "story.service.d"), { recursive: true });
      const units = readdirSync(join(installed, "deploy", "systemd")).filter((f) => f.endsWith(".service"));
      expect(units.sort()).toEqual([
        "slashguard-agent.service",
        "slashguard-failover.service",
        "slashguard-monitor.service",
        "slashguard-signer.service",
      ]);
      for (const u of units) {
        // the only change: ExecStart names where this test installed the package (npm's global bin)
        const text = readFileSync(join(installed, "deploy", "systemd", u), "utf8");
        expect(text).toContain("ExecStart=/usr/bin/slashguard ");
        writeFileSync(join(dir, u), text.replaceAll("/usr/bin/slashguard", bin[0]!));
      }
      // the node's own unit on a failover host, with the drop-in that binds it to its daemon
      writeFileSync(join(dir, "story.service"), "[Unit]\nDescription=node\n[Service]\nExecStart=/bin/sleep infinity\n");
      copyFileSync(
        join(installed, "deploy", "systemd", "node-bound-to-failover.conf"),
        join(dir, "story.service.d", "slashguard-failover.conf"),
      );
      const all = [...units, "story.service"].map((u) => join(dir, u));
      const verify = await run("systemd-analyze", ["verify", "--man=no", ...all], { cwd: dir }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
      // unknown keys are only warnings to systemd: any output counts as a failure here
      expect(verify).toEqual({ code: 0, out: "" });
      for (const u of units) {
        const sec = await run("systemd-analyze", ["security", "--offline=yes", "--threshold=25", join(dir, u)]).then(
          () => 0,
          (e: { code: number }) => e.code,
        );
        expect(sec, `${u}: exposure above 2.5 (systemd-analyze security --offline=yes)`).toBe(0);
      }
    },
  );
});
