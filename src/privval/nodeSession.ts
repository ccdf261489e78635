import { connect as netConnect, type Socket } from "node:net";
import {
  CometWireError,
  CometWireErrorCode,
  decodePrivvalMessage,
  delimit,
  encodePrivvalMessage,
  peerIdOf,
  type RawStream,
  readDelimitedFrom,
  SecretConnection,
} from "../chains/cometbft/index.js";
import type { Clock } from "../util/clock.js";
import type { Ed25519Key } from "../util/curve25519.js";
import { errorMessage, isAppError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { withTimeout } from "../util/timeout.js";
import type { PrivvalMetrics } from "./metrics.js";
import type { NodeAddress } from "./nodeAddress.js";
import type { RequestHandler } from "./requestHandler.js";
import { SocketStream } from "./socketStream.js";

export interface NodeSessionOptions {
  chainId: string;
  address: NodeAddress;
  /** Largest request read; a bigger length prefix closes the connection unread (a vote extension may be 1 MiB). */
  maxRequestBytes: number;
  connectTimeoutMs: number;
  /** A node serves one signer at a time: a handshake that does not finish in time is retried. */
  handshakeTimeoutMs: number;
  /** The node pings every ~3.3 s when idle; this much silence means the connection is dead. */
  idleTimeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export const DEFAULT_SESSION_TIMING = {
  maxRequestBytes: 2 << 20,
  connectTimeoutMs: 2000,
  handshakeTimeoutMs: 3000,
  idleTimeoutMs: 20_000,
  // A starting node exits unless a signer answers within ~3 s: re-dial quickly.
  retryMinMs: 100,
  retryMaxMs: 1000,
};

export interface NodeSessionModules {
  handler: RequestHandler;
  identity: Ed25519Key;
  logger: Logger;
  clock: Clock;
  metrics?: PrivvalMetrics | null;
}

/**
 * One node (sentry) of one chain: dial, authenticate (SecretConnection over TCP, nothing over a Unix
 * socket), then answer the node's requests strictly one at a time, in order, until the connection
 * breaks; then dial again with backoff. A node restart never needs a signer restart.
 */
export class NodeSession {
  private stopped = false;
  private socket: Socket | null = null;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private isConnected = false;
  private lastFailure = "";

  constructor(
    private readonly opts: NodeSessionOptions,
    private readonly modules: NodeSessionModules,
  ) {}

  get connected(): boolean {
    return this.isConnected;
  }

  get address(): string {
    return this.opts.address.text;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.socket?.destroy();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.modules;
    let delay = this.opts.retryMinMs;
    while (!this.stopped) {
      try {
        const stream = await this.open();
        delay = this.opts.retryMinMs;
        this.setConnected(true);
        this.lastFailure = "";
        logger.info("Connected to node");
        await this.serve(stream);
      } catch (e) {
        if (!this.stopped) this.noteFailure(e);
      } finally {
        this.setConnected(false);
        this.socket?.destroy();
        this.socket = null;
      }
      if (this.stopped) break;
      try {
        await this.modules.clock.sleep(delay, this.abort.signal);
      } catch {
        break;
      }
      delay = Math.min(delay * 2, this.opts.retryMaxMs);
    }
  }

  private noteFailure(e: unknown): void {
    const reason = isAppError(e) ? e.code : errorMessage(e);
    const ctx = { reason };
    // The same failure every retry (node down) is logged once at warn, then at debug until it changes.
    if (reason !== this.lastFailure) this.modules.logger.warn("Node connection failed or closed", ctx, e);
    else this.modules.logger.debug("Node connection failed or closed", ctx);
    this.lastFailure = reason;
  }

  private setConnected(v: boolean): void {
    this.isConnected = v;
    this.modules.metrics?.connected.set({ chain_id: this.opts.chainId, node: this.address }, v ? 1 : 0);
  }

  /** Connects and authenticates; returns the stream privval messages travel on. */
  private async open(): Promise<RawStream> {
    const m = this.modules.metrics;
    const labels = { chain_id: this.opts.chainId, node: this.address };
    try {
      const socket = await this.dial();
      this.socket = socket;
      const raw = new SocketStream(socket);
      let stream: RawStream = raw;
      const a = this.opts.address;
      if (a.kind === "tcp") {
        const conn = await withTimeout(
          SecretConnection.handshake(raw, this.modules.identity),
          this.opts.handshakeTimeoutMs,
          () => {
            this.socket?.destroy();
            return new Error("handshake timed out (the node may be serving another signer)");
          },
        );
        if (a.peerId !== null && peerIdOf(conn.remotePubKey) !== a.peerId) {
          throw new CometWireError(
            CometWireErrorCode.InvalidRequest,
            `node identity ${peerIdOf(conn.remotePubKey)} is not the pinned ${a.peerId}`,
          );
        }
        stream = conn;
      }
      socket.setTimeout(this.opts.idleTimeoutMs);
      m?.connections.inc({ ...labels, result: "established" });
      return stream;
    } catch (e) {
      m?.connections.inc({ ...labels, result: "failed" });
      throw e;
    }
  }

  private dial(): Promise<Socket> {
    const a = this.opts.address;
    return new Promise((resolve, reject) => {
      const s = a.kind === "tcp" ? netConnect({ host: a.host, port: a.port }) : netConnect({ path: a.path });
      this.socket = s;
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error("connect timed out"));
      }, this.opts.connectTimeoutMs);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      s.once("error", onError);
      s.once("connect", () => {
        clearTimeout(timer);
        s.off("error", onError);
        s.setNoDelay(true);
        s.on("timeout", () => s.destroy(new Error("connection idle too long")));
        resolve(s);
      });
    });
  }

  /** Strict lockstep: read one request, answer it, read the next. Malformed input ends the connection. */
  private async serve(stream: RawStream): Promise<void> {
    const max = this.opts.maxRequestBytes;
    const tooLarge = (): Error => new CometWireError(CometWireErrorCode.TooLarge, `request larger than ${max} bytes`);
    const { handler, logger, metrics } = this.modules;
    while (!this.stopped) {
      const body = await readDelimitedFrom(stream, max, tooLarge);
      const started = performance.now();
      const handled = await handler.handle(decodePrivvalMessage(body));
      await stream.write(delimit(encodePrivvalMessage(handled.response)));
      metrics?.requests.inc({ chain_id: this.opts.chainId, type: handled.type, outcome: handled.outcome });
      metrics?.requestSeconds.observe({ type: handled.type }, (performance.now() - started) / 1000);
      if (handled.outcome === "invalid")
        logger.warn("Invalid privval request answered with an error", {
          type: handled.type,
          code: handled.code,
        });
      else logger.debug("privval request answered", { type: handled.type, outcome: handled.outcome });
    }
  }
}
