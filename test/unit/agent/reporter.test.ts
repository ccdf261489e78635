import { afterEach, describe, expect, it } from "vitest";
import { Reporter } from "../../../src/agent/reporter.js";
import type { Clock } from "../../../src/util/clock.js";
import { nullLogger } from "../../../src/util/logger.js";
import { LoopbackServer, sendJson } from "../../utils/httpServer.js";
import { report } from "../../utils/reports.js";

/** Back-off sleeps return at once: the test drives retries by what the server answers, not by time. */
const instantClock: Clock = { nowMs: () => Date.now(), sleep: () => new Promise((r) => setImmediate(r)) };
const opts = (url: string, maxQueue = 10) => ({
  monitorUrl: url,
  token: "sgm_t",
  maxQueue,
  timeoutMs: 2000,
  initialBackoffMs: 1,
  maxBackoffMs: 2,
});

describe("reporter", () => {
  let server: LoopbackServer | null = null;
  let rep: Reporter | null = null;
  afterEach(async () => {
    await rep?.stop();
    await server?.stop();
    rep = null;
    server = null;
  });

  it("keeps reports while the monitor fails and sends them in order once it answers", async () => {
    let fail = 5;
    server = new LoopbackServer((_r, res) => sendJson(res, fail-- > 0 ? 503 : 202, {}));
    const url = await server.start();
    rep = new Reporter(opts(url), { logger: nullLogger, clock: instantClock });
    for (let i = 0; i < 3; i++) rep.enqueue(report(`h${i}`, []));
    rep.start();
    while (rep.queued > 0) await new Promise((r) => setTimeout(r, 5));
    await rep.stop();
    const ok = server.requests.slice(5).map((r) => (r.json as { host: string }).host);
    expect(ok).toEqual(["h0", "h1", "h2"]);
    expect(server.requests.every((r) => r.headers.authorization === "Bearer sgm_t")).toBe(true);
    expect(rep.sent).toBe(3);
  });

  it("the queue is bounded: the oldest report goes first", () => {
    rep = new Reporter(opts("http://127.0.0.1:9", 3), { logger: nullLogger, clock: instantClock });
    for (let i = 0; i < 5; i++) rep.enqueue(report(`h${i}`, []));
    expect(rep.queued).toBe(3);
    expect(rep.dropped).toBe(2);
  });

  it("a report refused as malformed is dropped, not retried for ever; 401 is retried", async () => {
    const answers = [400, 401, 202];
    server = new LoopbackServer((_r, res) => sendJson(res, answers.shift() ?? 202, {}));
    const url = await server.start();
    rep = new Reporter(opts(url), { logger: nullLogger, clock: instantClock });
    rep.enqueue(report("bad", []));
    rep.enqueue(report("good", []));
    rep.start();
    while (rep.queued > 0) await new Promise((r) => setTimeout(r, 5));
    await rep.stop();
    expect(server.requests.map((r) => (r.json as { host: string }).host)).toEqual(["bad", "good", "good"]);
    expect(rep.dropped).toBe(1);
  });
  it("a 429 from the monitor is retried no sooner than its Retry-After", async () => {
    const answers = [429, 202];
    server = new LoopbackServer((_r, res) => {
      const status = answers.shift() ?? 202;
      res.writeHead(status, { "content-type": "application/json", ...(status === 429 ? { "retry-after": "7" } : {}) });
      res.end("{}");
    });
    const url = await server.start();
    const slept: number[] = [];
    const clock: Clock = {
      nowMs: () => Date.now(),
      sleep: (ms) => {
        slept.push(ms);
        return new Promise((r) => setImmediate(r));
      },
    };
    rep = new Reporter(opts(url), { logger: nullLogger, clock });
    rep.enqueue(report("h", []));
    rep.start();
    while (rep.queued > 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.requests).toHaveLength(2);
    expect(slept).toEqual([7000]);
  });
});
