import type { Socket } from "node:net";
import type { RawStream } from "../chains/cometbft/index.js";

/** Above this many buffered bytes the socket is paused (a reader takes at most one message at a time). */
const HIGH_WATER = 4 << 20;

/** The raw byte stream of a socket, read by exact lengths (what the handshake and the framing need). */
export class SocketStream implements RawStream {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { n: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      if (this.buffered > HIGH_WATER) socket.pause();
      this.serve();
    });
    const end = (e?: Error): void => {
      this.failure ??= e ?? new Error("connection closed");
      this.serve();
    };
    socket.on("end", () => end());
    socket.on("close", () => end());
    socket.on("error", (e) => end(e));
  }

  read(n: number): Promise<Uint8Array> {
    if (this.waiter !== null) return Promise.reject(new Error("concurrent read"));
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.serve();
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (e) => (e ? reject(e) : resolve()));
    });
  }

  private serve(): void {
    const w = this.waiter;
    if (w === null) return;
    if (this.buffered >= w.n) {
      this.waiter = null;
      w.resolve(this.take(w.n));
      if (this.buffered <= HIGH_WATER && this.socket.isPaused()) this.socket.resume();
    } else if (this.failure !== null) {
      this.waiter = null;
      w.reject(this.failure);
    }
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      // the common case: the bytes are in one chunk
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    // Join only the chunks the read spans, not everything buffered.
    let k = 0;
    let have = 0;
    while (have < n) have += this.chunks[k++]!.length;
    const joined = Buffer.concat(this.chunks.slice(0, k));
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest, ...this.chunks.slice(k)] : this.chunks.slice(k);
    this.buffered -= n;
    return out;
  }
}
