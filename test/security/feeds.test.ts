import { get as httpGet, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../utils/cli.js";
import { startMonitorProcess, until } from "../utils/processes.js";
import { tempDir } from "../utils/stores.js";

/**
 * Issue 15 item 5 against a real `slashguard monitor`: a revoked token's open alert feeds are closed
 * within the bound in which its REST requests are refused, and one token may hold only so many feeds
 * open (8 by default; one more is a typed 429).
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Feed {
  status: number;
  ended: Promise<void>;
  body: Promise<string>;
  res: IncomingMessage;
}

function openFeed(url: string, token: string): Promise<Feed> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${url}/api/v1/feed`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
      });
      const ended = new Promise<void>((r) => {
        res.once("end", () => r());
        res.once("close", () => r());
        res.once("error", () => r());
      });
      resolve({ status: res.statusCode ?? 0, ended, body: ended.then(() => text), res });
    });
    req.on("error", reject);
  });
}

async function createToken(db: string, owner: string): Promise<{ token: string; id: number }> {
  const r = await runCli(["monitor", "token", "create", "--db", db, "--owner", owner, "--role", "operator"]);
  expect(r.code).toBe(0);
  return { token: r.stdout.trim(), id: Number(/token ([0-9]+)/.exec(r.stderr)![1]) };
}

async function startWithTokens(): Promise<{
  url: string;
  db: string;
  one: { token: string; id: number };
  two: { token: string; id: number };
  feeds: Feed[];
}> {
  const t = tempDir("sg-feeds-");
  cleanups.push(t.cleanup);
  const db = `sqlite:${join(t.dir, "monitor.db")}`;
  const one = await createToken(db, "alice");
  const two = await createToken(db, "alice");
  const m = await startMonitorProcess(["--db", db]);
  cleanups.push(() => m.stop());
  const feeds: Feed[] = [];
  cleanups.push(() => {
    for (const f of feeds) f.res.destroy();
  });
  return { url: m.url, db, one, two, feeds };
}

it("one token may hold 8 feeds open; one more is 429 ERR_FEED_LIMIT, another token is not affected", async () => {
  const { url, one, two, feeds } = await startWithTokens();
  for (let i = 0; i < 8; i++) feeds.push(await openFeed(url, one.token));
  expect(feeds.map((f) => f.status)).toEqual(Array(8).fill(200));
  const ninth = await openFeed(url, one.token);
  feeds.push(ninth);
  expect(ninth.status).toBe(429);
  expect(JSON.parse(await ninth.body).code).toBe("ERR_FEED_LIMIT");
  const other = await openFeed(url, two.token);
  feeds.push(other);
  expect(other.status).toBe(200);
  // a closed feed frees its slot
  feeds[0]!.res.destroy();
  await feeds[0]!.ended;
  const again = await until(async () => {
    const f = await openFeed(url, one.token);
    feeds.push(f);
    return f.status === 200 ? f : undefined;
  }, "a freed feed slot");
  expect(again.status).toBe(200);
}, 60_000);

it("a revoked token's open feeds are closed (REST refuses it too); other tokens' feeds stay", async () => {
  const { url, db, one, two, feeds } = await startWithTokens();
  for (let i = 0; i < 3; i++) feeds.push(await openFeed(url, one.token));
  const other = await openFeed(url, two.token);
  feeds.push(other);
  expect(feeds.map((f) => f.status)).toEqual([200, 200, 200, 200]);

  expect((await runCli(["monitor", "token", "revoke", String(one.id), "--db", db])).code).toBe(0);
  // REST refuses within the token cache's 5 s; the feeds must end within about the same (10 s allowed here)
  const limit = new Promise<"open">((r) => setTimeout(() => r("open"), 10_000));
  const closed = await Promise.race([Promise.all(feeds.slice(0, 3).map((f) => f.ended)).then(() => "closed"), limit]);
  expect(closed).toBe("closed");
  const rest = await fetch(`${url}/api/v1/alerts`, { headers: { authorization: `Bearer ${one.token}` } });
  expect(rest.status).toBe(401);
  expect(((await rest.json()) as { code: string }).code).toBe("ERR_UNAUTHORIZED");
  expect(other.res.destroyed || other.res.readableEnded).toBe(false);
}, 60_000);
