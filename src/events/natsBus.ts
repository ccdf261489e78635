import { connect, type JetStreamClient, type NatsConnection, type NatsError, nanos, StorageType } from "nats";
import type { Logger } from "../util/logger.js";

/** What the publisher needs of a message bus (a fake in unit tests, NATS JetStream here). */
export interface EventBus {
  /** Connects (when not connected) and makes sure the stream exists; rejects when the bus is unreachable. */
  ready(): Promise<void>;
  /** Resolves when the bus has stored the message (or discarded it as a duplicate of msgId). */
  publish(subject: string, payload: string, msgId: string): Promise<void>;
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

  async close(): Promise<void> {
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
