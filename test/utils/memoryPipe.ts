import type { RawStream } from "../../src/chains/cometbft/secretConnection.js";

/** Two connected in-memory byte streams (no sockets), for handshake and frame tests. */
export function memoryPipe(): [RawStream & { close(): void }, RawStream & { close(): void }] {
  const ab = new ByteQueue();
  const ba = new ByteQueue();
  return [
    { write: async (b) => ab.push(b), read: (n) => ba.take(n), close: () => ab.end() },
    { write: async (b) => ba.push(b), read: (n) => ab.take(n), close: () => ba.end() },
  ];
}

class ByteQueue {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | null = null;

  push(b: Uint8Array): void {
    this.buf = Buffer.concat([this.buf, b]);
    this.waiter?.();
  }

  end(): void {
    this.ended = true;
    this.waiter?.();
  }

  async take(n: number): Promise<Uint8Array> {
    while (this.buf.length < n) {
      if (this.ended) throw new Error("stream ended");
      await new Promise<void>((r) => {
        this.waiter = r;
      });
      this.waiter = null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return new Uint8Array(out);
  }
}
