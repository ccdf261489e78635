/**
 * A fake CometBFT node: the LISTENING side of privval (priv_validator_laddr). It speaks the real wire
 * format (SecretConnection over TCP, plain over a Unix socket, length-delimited privval.Message) and,
 * like a real node, serves one signer connection at a time, sends one request and waits for its answer,
 * and verifies every signature it gets over sign bytes it computes itself.
 *
 * Written independently of src/privval and src/chains/cometbft (own protobuf, Merlin, handshake
 * and sign bytes) so that a bug there cannot hide behind the same bug here.
 */
import { createServer, type Server, type Socket } from "node:net";
import { decodeResponse, type FakeResponse } from "./fakeComet/messages.js";
import { type Channel, handshake, Reader, readVarintFrom } from "./fakeComet/secretConnection.js";
import { delimited } from "./fakeComet/wire.js";

export * from "./fakeComet/messages.js";

export interface FakeNodeOptions {
  /** A Unix socket path: plain privval, no SecretConnection. Default: TCP on 127.0.0.1, port 0. */
  unixPath?: string;
  /** A fixed TCP port (to restart a node where the signer dials it); default: any free port. */
  port?: number;
}

/** A node's listener. `request` sends one privval message on the current connection and returns the answer. */
export class FakeCometNode {
  private current: Channel | null = null;
  private readonly waiting: Socket[] = [];
  private readonly all = new Set<Socket>();
  private connectedWaiters: (() => void)[] = [];
  private hijack: ((socket: Socket) => void) | null = null;
  private busy = false;
  /** Every connection that completed the handshake. */
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly secret: boolean,
  ) {
    server.on("connection", (s) => {
      this.all.add(s);
      s.setNoDelay(true); // as Go's net package does for every TCP connection
      s.on("close", () => this.all.delete(s));
      s.on("error", () => {});
      // A real node accepts the next signer only when it has none (privval/signer_listener_endpoint.go).
      if (this.current !== null) this.waiting.push(s);
      else void this.accept(s);
    });
  }

  static async listen(opts: FakeNodeOptions = {}): Promise<FakeCometNode> {
    const server = createServer();
    if (opts.unixPath !== undefined) {
      await new Promise<void>((r) => server.listen(opts.unixPath, r));
      return new FakeCometNode(server, `unix://${opts.unixPath}`, false);
    }
    await new Promise<void>((r) => server.listen(opts.port ?? 0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    return new FakeCometNode(server, `tcp://127.0.0.1:${port}`, true);
  }

  /** The next accepted connection is handed to `fn` instead of the handshake (for hostile-input tests). */
  hijackNext(fn: (socket: Socket) => void): void {
    this.hijack = fn;
  }

  private async accept(s: Socket): Promise<void> {
    if (this.hijack !== null) {
      const fn = this.hijack;
      this.hijack = null;
      this.current = { socket: s, write: () => {}, read: async () => new Uint8Array(0) };
      s.once("close", () => this.release(s));
      s.resume(); // discard what the signer sends, so that its hang-up is seen
      fn(s);
      return;
    }
    const reader = new Reader(s);
    try {
      this.current = this.secret
        ? await handshake(s, reader)
        : { socket: s, write: (b) => s.write(b), read: (n) => reader.take(n) };
    } catch {
      s.destroy();
      this.release(s);
      return;
    }
    this.connections++;
    s.once("close", () => this.release(s));
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  private release(s: Socket): void {
    if (this.current?.socket === s) this.current = null;
    const next = this.waiting.shift();
    if (next !== undefined && !next.destroyed) void this.accept(next);
  }

  get connected(): boolean {
    return this.current !== null && !this.current.socket.destroyed;
  }

  /** Resolves once `n` signer connections have been authenticated in total. */
  async waitForConnections(n: number): Promise<void> {
    while (this.connections < n) await new Promise<void>((r) => this.connectedWaiters.push(r));
  }

  /** Resolves once a signer connection is authenticated (immediately if one is). */
  async waitForSigner(): Promise<void> {
    while (!this.connected) await new Promise<void>((r) => this.connectedWaiters.push(r));
  }

  /** The plaintext channel of the current connection (to write hostile bytes after the handshake). */
  get channel(): Channel {
    if (this.current === null) throw new Error("fake node: no signer connected");
    return this.current;
  }

  /** One request, one answer (lockstep, as SignerListenerEndpoint.SendRequest). Rejects if the signer hangs up. */
  async request(message: Uint8Array): Promise<FakeResponse> {
    if (this.busy) throw new Error("fake node: one request at a time");
    this.busy = true;
    try {
      await this.waitForSigner();
      const ch = this.channel;
      ch.write(delimited(message));
      const len = await readVarintFrom(ch.read);
      return decodeResponse(await ch.read(len));
    } finally {
      this.busy = false;
    }
  }

  /** Drops the current signer connection (as a node does after a timeout). */
  dropSigner(): void {
    this.current?.socket.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.all) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
