import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import {
  axeViolations,
  type BrowserSession,
  HAS_CHROMIUM,
  markChromiumSkipped,
  openBrowser,
  screenshot,
} from "../utils/browser.js";
import { startCli, waitForLine } from "../utils/cli.js";
import { FakeHarmonyNode, FakeKeymanager, HARMONY_NEEDS, HARMONY_VECTORS } from "../utils/fakeNodes.js";
import type { LoopbackServer } from "../utils/httpServer.js";
import { type Proc, runCli, startAgentProcess, startMonitorProcess, until, writeFile } from "../utils/processes.js";
import { freshStoreUrl, tempDir } from "../utils/stores.js";
import { skipWithoutVectors } from "../utils/vectors.js";

/** 5,000 distinct BLS-sized public keys per validator client: 10,000 on the two of them. */
const ethKey = (i: number): string => `0x${i.toString(16).padStart(8, "0")}${"c3".repeat(44)}`;
const KEYS_PER_CLIENT = 5000;
// Reports of 5,000 keys are larger than the default 1 MiB limit; the rest keeps the suite quick.
// agents here report every second, above the default per-host rate (30 a minute)
const CONFIG =
  "monitor:\n  sweep_interval: 500ms\n  max_report_bytes: 4194304\n  notification_poll: 200ms\n" +
  "  report_rate: { per_minute: 600, burst: 100 }\n";

const apiGet = async (url: string, path: string, token: string): Promise<any> =>
  (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  expect(await axeViolations(page)).toEqual([]);
  await page.getByLabel("Owner token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Alerts", level: 1 }).waitFor();
}

describe.skipIf(!HAS_CHROMIUM)("dashboard in a real browser", () => {
  const procs: Proc[] = [];
  const servers: LoopbackServer[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  let browser: BrowserSession | null = null;
  afterEach(async () => {
    await browser?.close();
    browser = null;
    for (const p of procs.splice(0)) await p.stop();
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const serve = async <S extends LoopbackServer>(s: S): Promise<string> => {
    servers.push(s);
    return s.start();
  };

  it("monitor fed by real agents: banner on double_active, acknowledge, suppress, 10,000-key table, key timeline", async (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const db = await freshStoreUrl("sqlite");
    cleanups.push(db.cleanup);
    const t = tempDir("sg-dash-");
    cleanups.push(t.cleanup);
    const token = async (role: string) =>
      (await runCli(["monitor", "token", "create", "--owner", "alice", "--role", role, "--db", db.url])).stdout.trim();
    const agentToken = writeFile(t.dir, "agent.token", await token("agent"));
    const operator = await token("operator");
    const monitor = await startMonitorProcess(["--db", db.url, "--config", writeFile(t.dir, "m.yaml", CONFIG)]);
    procs.push(monitor);

    // Two Harmony keys, each loaded on two nodes in Normal mode; two validator clients of 5,000 keys each.
    const harmonyNode = async (key: number) => {
      const n = new FakeHarmonyNode(HARMONY_VECTORS.normal);
      n.metadata.result.blskey = [(n.metadata.result.blskey as string[])[key]];
      return serve(n);
    };
    const [k0a, k0b, k1a, k1b] = [
      await harmonyNode(0),
      await harmonyNode(0),
      await harmonyNode(1),
      await harmonyNode(1),
    ];
    const kmToken = writeFile(t.dir, "km.token", "km-secret");
    const keymanager = async (offset: number) => {
      const km = new FakeKeymanager("km-secret");
      km.keystores = Array.from({ length: KEYS_PER_CLIENT }, (_, i) => ({
        validating_pubkey: ethKey(offset + i),
        derivation_path: "",
        readonly: false,
      }));
      return serve(km);
    };
    const [km1, km2] = [await keymanager(0), await keymanager(KEYS_PER_CLIENT)];
    const agent = (host: string, ...sources: string[]) =>
      procs.push(
        startAgentProcess([
          "--monitor",
          monitor.url,
          "--token-file",
          agentToken,
          "--host-name",
          host,
          "--interval",
          "1s",
          ...sources,
        ]),
      );
    const eth = (km: string) => ["--eth-keymanager", km, "--eth-keymanager-token-file", kmToken];

    // First one host per key: nothing is wrong yet.
    agent("alpha", "--harmony-rpc", k0a, ...eth(km1));
    agent("gamma", "--harmony-rpc", k1a);
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page, monitor.url, operator);
    await page.getByText("No alert needs attention").waitFor();
    expect(await page.getByTestId("alert-banner").count()).toBe(0);

    // The twins start: the banner appears while the page is open (live feed), naming the worst kind.
    agent("beta", "--harmony-rpc", k0b, ...eth(km2));
    agent("delta", "--harmony-rpc", k1b);
    const banner = page.getByTestId("alert-banner");
    await expect.poll(async () => banner.textContent(), { timeout: 60_000 }).toContain("2 critical alerts open.");
    expect(await banner.textContent()).toContain("Worst: Key active on two hosts");
    const alerts: any[] = (await apiGet(monitor.url, "/api/v1/alerts?status=open", operator)).data;
    const ab = alerts.find((a) => a.hosts.join() === "alpha,beta")!;
    const gd = alerts.find((a) => a.hosts.join() === "delta,gamma")!;
    expect([ab.kind, gd.kind]).toEqual(["double_active", "double_active"]);
    await page.getByRole("article", { name: `Key active on two hosts #${gd.id}` }).waitFor();
    await screenshot(page, "alerts");
    expect(await axeViolations(page)).toEqual([]);

    // Acknowledge one: it changes on screen at once and in the monitor.
    await banner.getByRole("link", { name: "Open the alert panel" }).click();
    const abItem = page.getByRole("article", { name: `Key active on two hosts #${ab.id}` });
    await abItem.getByRole("button", { name: "Acknowledge" }).click();
    await abItem.getByRole("button", { name: "Acknowledged" }).waitFor();
    await expect.poll(async () => banner.textContent()).toContain("1 critical alert open.");
    const acked = (await apiGet(monitor.url, `/api/v1/alerts/${ab.id}`, operator)).data;
    expect([acked.status, acked.acknowledged_by]).toEqual(["acknowledged", "alice"]);

    // Suppress the other for 4 hours: the banner goes.
    await page.goto(`${monitor.url}/alerts`);
    const gdItem = page.getByRole("article", { name: `Key active on two hosts #${gd.id}` });
    await gdItem.getByLabel("Suppress for").selectOption({ label: "4 hours" });
    const before = Date.now();
    await gdItem.getByRole("button", { name: "Suppress" }).click();
    await gdItem.getByText("suppressed until").waitFor();
    await expect.poll(async () => banner.count()).toBe(0);
    const suppressed = (await apiGet(monitor.url, `/api/v1/alerts/${gd.id}`, operator)).data;
    expect(suppressed.status).toBe("suppressed");
    expect(Date.parse(suppressed.suppressed_until) - before).toBeGreaterThan(4 * 3_600_000 - 60_000);
    expect(Date.parse(suppressed.suppressed_until) - Date.now()).toBeLessThanOrEqual(4 * 3_600_000);

    // The key table: 10,000 Ethereum keys and the Harmony keys on their four hosts.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Keys" }).click();
    const showing = page.getByText(/^Showing [0-9,]+ of/);
    await expect.poll(async () => showing.textContent(), { timeout: 60_000 }).toBe("Showing 10,004 of 10,004 keys");
    await screenshot(page, "keys");
    expect(await axeViolations(page)).toEqual([]);
    const search = page.getByLabel("Public key starts with");
    await search.fill("0x000001"); // keys 0x100 .. 0x1ff
    await expect.poll(async () => showing.textContent()).toBe("Showing 256 of 10,004 keys");
    await search.fill("0x0000138"); // 0x1380 .. 0x138f: 4992 .. 4999 on the first client, 5000 .. 5007 on the second
    await expect.poll(async () => showing.textContent()).toBe("Showing 16 of 10,004 keys");
    await page.getByLabel("Host").selectOption({ label: "beta" });
    await expect.poll(async () => showing.textContent()).toBe("Showing 8 of 10,004 keys on beta");
    await search.fill("");
    await page.getByLabel("Host").selectOption({ label: "All hosts" });
    await page.getByLabel("Chain").selectOption("harmony");
    await expect.poll(async () => showing.textContent()).toBe("Showing 4 of 10,004 keys");
    expect(await page.locator("tbody tr").count()).toBe(4);

    // A Harmony key's timeline: alpha and beta hold it, its alert on the same axis.
    await page.locator("tbody tr", { hasText: "alpha" }).getByRole("link").click();
    const lanes = page.getByRole("img", { name: /^2 hosts held this key/ });
    await lanes.waitFor();
    expect(await lanes.locator("text.lane-label").allTextContents()).toEqual(["alpha", "beta", "Alerts"]);
    expect(await lanes.locator("g.al-critical").count()).toBe(1);
    await page.getByText("Signatures per epoch are recorded for Ethereum keys only.").waitFor();
    await screenshot(page, "timeline");
    expect(await axeViolations(page)).toEqual([]);

    // Maintenance for delta, scheduled and ended from the fleet view.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Fleet" }).click();
    await page.getByRole("rowheader", { name: "delta" }).waitFor();
    await page.getByLabel("Host", { exact: true }).selectOption({ label: "delta" });
    await page.getByLabel("Reason").fill("kernel upgrade");
    await page.getByRole("button", { name: "Schedule maintenance" }).click();
    await page.getByText("Maintenance scheduled for delta.").waitFor();
    const windows: any[] = (await apiGet(monitor.url, "/api/v1/maintenance", operator)).data;
    expect(windows.map((w) => [w.host, w.reason])).toEqual([["delta", "kernel upgrade"]]);
    await expect.poll(async () => page.getByRole("row", { name: /^delta/ }).textContent()).toContain("kernel upgrade");
    await screenshot(page, "fleet");
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "End maintenance of delta now" }).click();
    await page.getByText("Maintenance of delta ended.").waitFor();
    expect((await apiGet(monitor.url, "/api/v1/maintenance", operator)).data).toEqual([]);

    // A phone: the alert panel fits the width.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${monitor.url}/alerts?status=all`);
    await page.getByRole("article", { name: `Key active on two hosts #${gd.id}` }).waitFor();
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await screenshot(page, "phone-alerts", true);
    expect(await axeViolations(page)).toEqual([]);

    expect(await browser.problems()).toEqual([]);
  });

  it("`slashguard up`: the signer view and a key's signatures per epoch, from the signer's own records", async () => {
    const t = tempDir("sg-dash-up-");
    cleanups.push(t.cleanup);
    const data = join(t.dir, "data");
    const child = startCli(["up", "--data-dir", data, "--port", "0"]);
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          if (child.exitCode !== null) return r();
          child.once("exit", () => r());
          child.kill("SIGTERM");
        }),
    );
    const url = /up: (\S+)/.exec(await waitForLine(child, /slashguard is up: (\S+)/, 120_000))![1]!;
    const owner = readFileSync(join(data, "owner-token"), "utf8").trim();
    const keys = (await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json()) as string[];
    const key = keys[0]!;

    // Attestations for targets 425000, 425001, 425003 (425002 left out) and a conflicting one (refused).
    const sign = (source: number, target: number, tag: string) =>
      fetch(`${url}/api/v1/eth2/sign/${key}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          type: "ATTESTATION",
          fork_info: {
            fork: { previous_version: "0x05000000", current_version: "0x06000000", epoch: "411392" },
            genesis_validators_root: "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95",
          },
          attestation: {
            slot: String(target * 32),
            index: "0",
            beacon_block_root: `0x${tag.repeat(32)}`,
            source: { epoch: String(source), root: `0x${"00".repeat(32)}` },
            target: { epoch: String(target), root: `0x${tag.repeat(32)}` },
          },
        }),
      });
    for (const [s, tg] of [
      [424999, 425000],
      [425000, 425001],
      [425001, 425003],
    ])
      expect((await sign(s!, tg!, "ab")).status).toBe(200);
    const refused = await sign(425001, 425003, "cd");
    expect(refused.status).toBe(412);
    const refusalCode = ((await refused.json()) as { code: string }).code;

    // The built-in agent reports the signer's keys, so the key has a fleet history under this owner.
    await until(async () => {
      const k = await apiGet(url, `/api/v1/keys?prefix=${key}`, owner);
      return k.data?.length > 0 ? true : undefined;
    }, "the built-in agent's first report");

    browser = await openBrowser();
    const { page } = browser;
    await signIn(page, url, owner);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Signer" }).click();
    await expect.poll(async () => page.getByText("Keys loaded").locator("..").textContent()).toBe("Keys loaded4");
    await expect
      .poll(async () => page.getByText("Signed, last hour").locator("..").textContent())
      .toBe("Signed, last hour3");
    expect(await page.getByText("Refused, last hour").locator("..").textContent()).toBe("Refused, last hour1");
    await page.getByRole("img", { name: /: 3 signatures and 1 refusals\.$/ }).waitFor();
    await page.getByRole("table", { name: "Refusals in the last hour by code" }).getByText(refusalCode).waitFor();
    // The doppelganger guard: its status per key where the signer serves it, a plain notice where not.
    const dg = await fetch(`${url}/api/v1/eth2/doppelganger`);
    if (dg.status === 404) await page.getByTestId("doppelganger-off").waitFor();
    else expect(await page.locator("[class*=pill-dg-]").count()).toBe(keys.length);
    await screenshot(page, "signer");
    expect(await axeViolations(page)).toEqual([]);

    // The key's timeline: this host holds it; three epochs with an attestation, one without, between.
    await page.goto(`${url}/keys/${key}`);
    const bars = page.getByRole("img", {
      name: "Epochs 424940 to 425003: 3 attestations and 0 block proposals signed; 61 epochs without a signature.",
    });
    await bars.waitFor();
    expect(await bars.locator("rect.bar-att").count()).toBe(3);
    await page.getByRole("img", { name: /^1 host held this key/ }).waitFor();
    await screenshot(page, "timeline-signatures");
    expect(await axeViolations(page)).toEqual([]);
    expect(await browser.problems()).toEqual([]);
  });
});

markChromiumSkipped("dashboard in a real browser");
