import { BadRequestError } from "./errors.js";

const HEX_RE = /^0x[0-9a-fA-F]*$/;

export function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

/** Lower-case 0x-hex without copying semantics surprises; accepts upper case input. */
export function isHex(value: string, byteLength?: number): boolean {
  if (!HEX_RE.test(value) || value.length % 2 !== 0) return false;
  return byteLength === undefined || value.length === 2 + 2 * byteLength;
}

/** Parses 0x-prefixed hex of an exact byte length; throws ERR_BAD_REQUEST naming the field. */
export function parseHex(value: unknown, field: string, byteLength?: number): Uint8Array {
  if (typeof value !== "string" || !isHex(value, byteLength)) {
    const want = byteLength === undefined ? "0x-prefixed hex" : `0x-prefixed hex of ${byteLength} bytes`;
    throw new BadRequestError(`${field} must be ${want}`, field);
  }
  return new Uint8Array(Buffer.from(value.slice(2), "hex"));
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return false; // a missing root never equals anything (EIP-3076)
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
