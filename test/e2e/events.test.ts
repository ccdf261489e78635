import { join } from "node:path";
import type { NatsConnection } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../utils/cli.js";
import { attestationRequest, blockRequest, TEST_GVR_HEX, type TestRequest } from "../utils/ethRequests.js";
import {
  deleteStream,
  HAS_NATS,
  markNatsSkipped,
  NATS_SERVER_BIN,
  NATS_URL,
  natsConnect,
  readStream,
  type StoredMessage,
  startOwnNatsServer,
  uniqueBus,
} from "../utils/nats.js";
import { generateTestKeys, postJson, type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { ENGINES, type Engine, freshStoreUrl, tempDir } from "../utils/stores.js";

const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];

interface Sent {
  key: string;
  req: TestRequest;
  status: number;
  code: string | undefined;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

async function until(cond: () => Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Per key, target after target: two conflicting attestations at once (one signed, one refused), then a block. */
async function burst(s: SignerProcess, keys: string[], targets: number[], sent: Sent[]): Promise<void> {
  for (const t of targets) {
    const reqs = keys.flatMap((key) => [
      { key, req: attestationRequest(t - 1, t, 1) },
      { key, req: attestationRequest(t - 1, t, 2) },
      { key, req: blockRequest(t * 32, 1) },
    ]);
    const res = await Promise.all(reqs.map((r) => postJson(`${s.url}/api/v1/eth2/sign/${r.key}`, r.req.body)));
    for (const [i, r] of reqs.entries()) sent.push({ ...r, status: res[i]!.status, code: res[i]!.json.code });
  }
}

/** The stream holds exactly one event per decision, and per key in the order the signer decided. */
function checkEvents(sent: Sent[], got: StoredMessage[], prefix: string): void {
  expect(got).toHaveLength(sent.length);
  expect(new Set(got.map((m) => m.msgId)).size).toBe(sent.length);
  for (const key of new Set(sent.map((x) => x.key))) {
    const mine = got.filter((m) => m.subject === `${prefix}.sign.ethereum.${key}`).map((m) => m.json);
    const decisions = sent.filter((x) => x.key === key);
    expect(mine).toHaveLength(decisions.length);
    // every answer has its event: a 200 a "signed" one with the request's signing root, a 412 a "refused"
    // one with the answer's code
    const signedRoots = decisions.filter((d) => d.status === 200).map((d) => d.req.root);
    expect(
      mine.filter((e) => e.decision === "signed").map((e) => (e.request as { signing_root: string }).signing_root),
    ).toEqual(expect.arrayContaining(signedRoots));
    expect(mine.filter((e) => e.decision === "signed")).toHaveLength(signedRoots.length);
    expect(mine.filter((e) => e.decision === "refused").map((e) => e.code)).toEqual(
      decisions.filter((d) => d.status === 412).map((d) => d.code),
    );
    // in decision order: the rounds were sent one after the other, so their events are too; within a round
    // the refused twin comes after the attestation that was signed (it was refused because of it)
    const rounds = mine.map((e) => {
      const r = e.request as { type: string; target_epoch?: string; slot?: string };
      return r.type === "block" ? Number(r.slot) / 32 : Number(r.target_epoch);
    });
    expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
    const atts = mine.filter((e) => (e.request as { type: string }).type === "attestation");
    for (let i = 0; i < atts.length; i += 2)
      expect([atts[i]!.decision, atts[i + 1]!.decision]).toEqual(["signed", "refused"]);
  }
}

describe.skipIf(!HAS_NATS)("signer --events (real signer process, real NATS JetStream)", () => {
  let nc: NatsConnection;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    nc = await natsConnect();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await nc?.close();
  });

  async function setup(
    keys: number,
    engine: Engine = "sqlite",
  ): Promise<{ db: string; dir: string; pubkeys: string[] }> {
    const t = tempDir("sg-events-");
    cleanups.push(t.cleanup);
    const db = await freshStoreUrl(engine);
    cleanups.push(db.cleanup);
    return { db: db.url, dir: t.dir, pubkeys: await generateTestKeys(join(t.dir, "keys"), keys) };
  }
  async function signer(db: string, dir: string, events: string[]): Promise<SignerProcess> {
    const s = await startSignerProcess([
      "--db",
      db,
      ...NET,
      "--keystores",
      join(dir, "keys"),
      "--keymanager-token-file",
      join(dir, "token"),
      ...events,
    ]);
    cleanups.push(() => s.stop());
    return s;
  }

  it.each(ENGINES)(
    "signatures and refusals arrive on the stream exactly once, in order per key (%s)",
    async (engine) => {
      const { stream, prefix } = uniqueBus();
      cleanups.push(() => deleteStream(nc, stream));
      const { db, dir, pubkeys } = await setup(3, engine);
      const s = await signer(db, dir, [
        "--events",
        NATS_URL,
        "--events-stream",
        stream,
        "--events-subject-prefix",
        prefix,
      ]);
      const sent: Sent[] = [];
      await burst(s, pubkeys, [1, 2, 3, 4, 5, 6], sent);
      expect(sent.filter((x) => x.status === 200)).toHaveLength(3 * 6 * 2);
      expect(sent.filter((x) => x.status === 412)).toHaveLength(3 * 6);
      const got = await readStream(nc, stream, sent.length);
      checkEvents(sent, got, prefix);
      await until(async () => (await metric(s.url, "slashguard_events_outbox_events")) === 0, "an empty outbox");
      // the consumer example prints one key's events as JSON lines, in stream order
      const subject = `${prefix}.sign.ethereum.${pubkeys[1]}`;
      const mine = got.filter((m) => m.subject === subject).map((m) => m.json);
      const tail = await runCli(
        ["events", "tail", "--url", NATS_URL, "--stream", stream, "--subject", subject, "--count", String(mine.length)],
        { timeoutMs: 30_000 },
      );
      expect(tail.code).toBe(0);
      expect(
        tail.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual(mine);
    },
  );

  it.skipIf(NATS_SERVER_BIN === undefined)(
    "NATS down during signing: signing goes on, the outbox grows, and drains once NATS is back (no event lost, none twice)",
    async () => {
      const t = tempDir("sg-nats-");
      cleanups.push(t.cleanup);
      const server = await startOwnNatsServer(t.dir);
      cleanups.push(() => server.stop());
      const { stream, prefix } = uniqueBus();
      const { db, dir, pubkeys } = await setup(3);
      const s = await signer(db, dir, [
        "--events",
        server.url,
        "--events-stream",
        stream,
        "--events-subject-prefix",
        prefix,
      ]);
      const sent: Sent[] = [];
      await burst(s, pubkeys, [1, 2, 3], sent);
      await until(async () => (await metric(s.url, "slashguard_events_outbox_events")) === 0, "the first burst sent");
      await server.stop();
      await burst(s, pubkeys, [4, 5, 6, 7, 8], sent);
      // signing went on without the bus
      expect(sent.filter((x) => x.status === 200)).toHaveLength(3 * 8 * 2);
      await until(
        async () => (await metric(s.url, "slashguard_events_outbox_events")) >= 3 * 5 * 3,
        "the outbox to hold the second burst",
      );
      await until(
        async () => (await metric(s.url, "slashguard_events_publish_failures_total")) > 0,
        "a failed publish to be counted",
      );
      const health = (await (await fetch(`${s.url}/healthcheck`)).json()) as {
        checks: Record<string, { ok: boolean }>;
      };
      expect(health.checks.events?.ok).toBe(true);
      await server.restart();
      await until(async () => (await metric(s.url, "slashguard_events_outbox_events")) === 0, "the outbox to drain");
      const reader = await natsConnect(server.url);
      cleanups.push(() => reader.close());
      checkEvents(sent, await readStream(reader, stream, sent.length), prefix);
    },
  );
});

markNatsSkipped("signer --events");
