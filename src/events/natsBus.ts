import {
  connect,
  createInbox,
  headers,
  type JetStreamClient,
  type Msg,
  type NatsConnection,
  type NatsError,
  nanos,
  StorageType,
  type Subscription,
} from "nats";
import type { Logger } from "../util/logger.js";

/** What the publisher needs of a message bus (a fake in unit tests, NATS JetStream here). */
export interface EventBus {
  /** Connects (when not connected) and makes sure the stream exists; rejects when the bus is unreachable. */
  ready(): Promise<void>;
  /** Resolves when the bus has stored the message (or discarded it as a duplicate of msgId). */
  publish(subject: string, payload: string, msgId: string): Promise<void>;
  /**
   * Several at once (same meaning as publish for each; distinct subjects, so order between them does not
   * matter): one settled result per message. Optional; the publisher falls back to publish().
   */
  publishBatch?(
    events: readonly { subject: string; payload: string; msgId: string }[],
  ): Promise<PromiseSettledResult<void>[]>;
  readonly connected: boolean;
  close(): Promise<void>;
}

export interface NatsBusOptions {
  /** nats://HOST:PORT (several separated by commas). */
  url: string;
  stream: string;
  subjectPrefix: string;
  /** Publish acknowledgement timeout. */
  timeoutMs?: number;
  /** JetStream de-duplication window set on a stream this publisher creates. */
  duplicateWindowMs?: number;
}

const STREAM_NOT_FOUND = 10059;
/** Long enough to cover a publisher restart after a crash between publish and outbox delete. */
const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * NATS JetStream through the `nats` package (nats.js v2). Once connected, the client reconnects by itself;
 * publishes that fail meanwhile reject (timeout) and the publisher retries them with the same msgId.
 */
export class NatsBus implements EventBus {
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private streamReady = false;
  /** publishBatch: one subscription for every acknowledgement, reply subjects INBOX.<batch>.<i>. */
  private inbox: { prefix: string; sub: Subscription } | null = null;
  private batchSeq = 0;
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    private readonly opts: NatsBusOptions,
    private readonly modules: { logger: Logger },
  ) {}

  get connected(): boolean {
    return this.nc !== null && !this.nc.isClosed() && this.streamReady;
  }

  async ready(): Promise<void> {
    if (this.nc === null || this.nc.isClosed()) {
      this.streamReady = false;
      const nc = await connect({
        servers: this.opts.url.split(",").map((s) => s.trim()),
        name: "slashguard-events",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: this.opts.timeoutMs ?? 5000,
      });
      this.nc = nc;
      this.inbox = null;
      this.js = nc.jetstream({ timeout: this.opts.timeoutMs ?? 5000 });
      void this.watch(nc);
      this.modules.logger.info("Connected to the message bus", { server: nc.getServer() });
    }
    if (!this.streamReady) {
      await this.ensureStream(this.nc);
      this.streamReady = true;
    }
  }

  async publish(subject: string, payload: string, msgId: string): Promise<void> {
    if (this.js === null) throw new Error("not connected");
    await this.js.publish(subject, Buffer.from(payload, "utf8"), {
      msgID: msgId,
      timeout: this.opts.timeoutMs ?? 5000,
    });
  }

  /**
   * JetStream publishes as core messages with a reply subject on one shared inbox subscription: the
   * stream's acknowledgement (or error) comes back there. Much less work per message than js.publish
   * (a request with its own timer each), which matters on the signer's CPU.
   */
  async publishBatch(
    events: readonly { subject: string; payload: string; msgId: string }[],
  ): Promise<PromiseSettledResult<void>[]> {
    const nc = this.nc;
    if (nc === null || nc.isClosed()) throw new Error("not connected");
    if (this.inbox === null) {
      const prefix = createInbox();
      const sub = nc.subscribe(`${prefix}.>`, { callback: (_err, msg) => this.acked(msg) });
      this.inbox = { prefix, sub };
    }
    const base = `${this.inbox.prefix}.${this.batchSeq++}.`;
    const done = events.map(
      (_, i) => new Promise<void>((resolve, reject) => this.waiting.set(`${base}${i}`, { resolve, reject })),
    );
    events.forEach((e, i) => {
      const h = headers();
      h.set("Nats-Msg-Id", e.msgId);
      nc.publish(e.subject, Buffer.from(e.payload, "utf8"), { headers: h, reply: `${base}${i}` });
    });
    const timer = setTimeout(() => {
      for (let i = 0; i < events.length; i++) this.settle(`${base}${i}`, new Error("publish acknowledgement timeout"));
    }, this.opts.timeoutMs ?? 5000);
    try {
      return await Promise.allSettled(done);
    } finally {
      clearTimeout(timer);
    }
  }

  private acked(msg: Msg): void {
    let error: Error | null = null;
    if (msg.headers?.hasError) error = new Error(`publish failed: ${msg.headers.code} ${msg.headers.description}`);
    else {
      try {
        const a = JSON.parse(Buffer.from(msg.data).toString("utf8")) as { error?: { description?: string } };
        if (a.error !== undefined) error = new Error(`publish refused: ${a.error.description ?? "error"}`);
      } catch {
        error = new Error("unreadable publish acknowledgement");
      }
    }
    this.settle(msg.subject, error);
  }

  private settle(reply: string, error: Error | null): void {
    const w = this.waiting.get(reply);
    if (w === undefined) return;
    this.waiting.delete(reply);
    if (error === null) w.resolve();
    else w.reject(error);
  }

  async close(): Promise<void> {
    for (const k of [...this.waiting.keys()]) this.settle(k, new Error("closed"));
    this.inbox?.sub.unsubscribe();
    this.inbox = null;
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    this.streamReady = false;
    // close() flushes; with the server away that could wait for a reconnect, so it gets two seconds
    if (nc !== null && !nc.isClosed())
      await Promise.race([nc.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    const jsm = await nc.jetstreamManager({ timeout: this.opts.timeoutMs ?? 5000 });
    try {
      await jsm.streams.info(this.opts.stream);
    } catch (e) {
      if ((e as NatsError).api_error?.err_code !== STREAM_NOT_FOUND) throw e;
      await jsm.streams.add({
        name: this.opts.stream,
        subjects: [`${this.opts.subjectPrefix}.>`],
        storage: StorageType.File,
        duplicate_window: nanos(this.opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
      });
      this.modules.logger.info("Message-bus stream created", { stream: this.opts.stream });
    }
  }

  /** Logs connection changes; a server that comes back may have lost the stream, so it is checked again. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") this.modules.logger.warn("Message bus disconnected", { server: String(s.data) });
      if (s.type === "reconnect") {
        this.streamReady = false;
        this.modules.logger.info("Message bus reconnected", { server: String(s.data) });
      }
    }
  }
}
