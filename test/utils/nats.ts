import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { connect, type JsMsg, type NatsConnection } from "nats";
import { it } from "vitest";

/** The NATS server with JetStream the tests use (this machine runs one; .ci/services.sh starts it). */
export const NATS_URL = process.env.SLASHGUARD_NATS_URL ?? "nats://127.0.0.1:4222";

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = tcpConnect({ host: u.hostname, port: Number(u.port || 4222) });
    s.setTimeout(2000);
    s.once("data", (d) => {
      s.destroy();
      resolve(d.toString().startsWith("INFO"));
    });
    s.once("error", () => resolve(false));
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}

export const HAS_NATS = await reachable(NATS_URL);
/** CI sets it (.ci/run): without a NATS server the event tests then fail instead of skipping. */
if (!HAS_NATS && process.env.SLASHGUARD_REQUIRE_NATS === "1")
  throw new Error(`SLASHGUARD_REQUIRE_NATS=1 and no NATS server answers at ${NATS_URL} (.ci/services.sh starts one)`);
if (!HAS_NATS)
  console.warn(`NATS is not reachable at ${NATS_URL}: message-bus tests are SKIPPED (SLASHGUARD_NATS_URL)`);

/** Debian's nats-server, for tests that stop and restart a server of their own. */
export const NATS_SERVER_BIN = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"].find(
  (p) => existsSync(p),
);
if (NATS_SERVER_BIN === undefined && process.env.SLASHGUARD_REQUIRE_NATS === "1")
  throw new Error("SLASHGUARD_REQUIRE_NATS=1 and nats-server is not installed (apt-get install nats-server)");

/** Shows up as a skipped test with the reason where NATS is missing, so a skip is never silent. */
export function markNatsSkipped(suite: string): void {
  if (!HAS_NATS) it.skip(`${suite}: SKIPPED, NATS is not reachable at ${NATS_URL}`, () => {});
}

/** A stream name and subject prefix no other test (or session) uses. */
export function uniqueBus(): { stream: string; prefix: string } {
  const id = `${process.pid}_${randomBytes(4).toString("hex")}`;
  return { stream: `SGTEST_${id}`, prefix: `sgtest_${id}` };
}

export async function natsConnect(url = NATS_URL): Promise<NatsConnection> {
  return connect({ servers: url, timeout: 5000 });
}

export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  json: Record<string, unknown>;
}

/** Every message of a stream in stream order, once it holds at least `count` (waits up to `deadlineMs`). */
export async function readStream(
  nc: NatsConnection,
  stream: string,
  count: number,
  deadlineMs = 60_000,
): Promise<StoredMessage[]> {
  const jsm = await nc.jetstreamManager();
  const until = Date.now() + deadlineMs;
  for (;;) {
    const info = await jsm.streams.info(stream).catch(() => null);
    const n = info?.state.messages ?? 0;
    if (n >= count || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const js = nc.jetstream();
  const consumer = await js.consumers.get(stream); // ordered consumer: every message once, in order
  const out: StoredMessage[] = [];
  const info = await jsm.streams.info(stream).catch(() => null);
  const total = info?.state.messages ?? 0;
  if (total === 0) return out;
  const msgs = await consumer.consume();
  for await (const m of msgs as AsyncIterable<JsMsg>) {
    out.push({
      seq: m.seq,
      subject: m.subject,
      msgId: m.headers?.get("Nats-Msg-Id"),
      json: m.json<Record<string, unknown>>(),
    });
    if (out.length >= total) break;
  }
  await msgs.close();
  return out;
}

export async function deleteStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(stream).catch(() => {});
}

export interface OwnNatsServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port and store directory (JetStream data survives). */
  restart(): Promise<void>;
}

/** A nats-server with JetStream of this test alone on a loopback port (to stop and restart it). */
export async function startOwnNatsServer(storeDir: string): Promise<OwnNatsServer> {
  if (NATS_SERVER_BIN === undefined) throw new Error("nats-server is not installed");
  let child: ChildProcess;
  const launch = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      child = spawn(NATS_SERVER_BIN!, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let log = "";
      const onData = (d: Buffer): void => {
        log += d.toString();
        const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
        if (m !== null && /Server is ready/.test(log)) resolve(Number(m[1]));
      };
      child.stderr!.on("data", onData);
      child.stdout!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`nats-server exited (${code}): ${log}`)));
    });
  const port = await launch(-1);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await launch(port);
    },
  };
}
