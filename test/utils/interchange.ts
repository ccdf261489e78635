import { Writable } from "node:stream";

export const GVR_HEX = `0x${"00".repeat(32)}`;
export const KEY_HEX = (n: number): string => `0xa0${"00".repeat(43)}${n.toString(16).padStart(8, "0")}`;
/** A distinct 32-byte root for every n. */
export const ROOT_HEX = (n: number): string => `0x${n.toString(16).padStart(64, "0")}`;

export function interchange(data: unknown[], gvr = GVR_HEX, version = "5"): string {
  return JSON.stringify({ metadata: { interchange_format_version: version, genesis_validators_root: gvr }, data });
}

/** Collects what is written to it. */
export class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Splits a text into chunks of a given size (streaming input). */
export function* chunked(text: string, size: number): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}
