import { type JsonHandler, JsonStreamError, JsonStreamErrorCode, JsonTokenizer } from "../../../util/jsonStream.js";
import type { AttestationRecord, BlockRecord } from "../protectionTypes.js";
import { InterchangeError, InterchangeErrorCode } from "./errors.js";
import { INTERCHANGE_FORMAT_VERSION, type InterchangeMetadata } from "./v5Types.js";

/** What the reader hands out while it streams a file; `entry` is the index in `data`. */
export interface InterchangeSink {
  metadata(m: InterchangeMetadata): void;
  pubkey(entry: number, pubkey: Uint8Array): void;
  block(entry: number, b: BlockRecord): void;
  attestation(entry: number, a: AttestationRecord): void;
}

type Ctx = "root" | "metadata" | "data" | "entry" | "blocks" | "block" | "atts" | "att";

const HEX_RE = /^0x[0-9a-fA-F]*$/;
const UINT_RE = /^(0|[1-9][0-9]{0,19})$/;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Streaming EIP-3076 v5 reader: feed it text chunks; it validates as it goes and emits records without
 * holding the document. Keys may come in any order (metadata may follow data); unknown keys are skipped.
 */
export class InterchangeV5Reader implements JsonHandler {
  private readonly tokenizer: JsonTokenizer;
  private readonly stack: Ctx[] = [];
  private field: string | null = null;
  /** > 0 while inside a value we ignore (unknown key). */
  private skip = 0;
  private entry = -1;
  private index = -1;
  private seen = new Set<string>();
  private record: Record<string, string | null> = {};
  private version: string | null = null;
  private gvr: string | null = null;
  private hasData = false;
  private metadataSent = false;

  constructor(private readonly sink: InterchangeSink) {
    this.tokenizer = new JsonTokenizer(this, { maxTokenLength: 4096, maxDepth: 32 });
  }

  get position(): number {
    return this.tokenizer.position;
  }

  write(chunk: string): void {
    try {
      this.tokenizer.write(chunk);
    } catch (e) {
      throw mapJsonError(e);
    }
  }

  end(): void {
    try {
      this.tokenizer.end();
    } catch (e) {
      throw mapJsonError(e);
    }
    if (this.version === null || this.gvr === null)
      throw malformed("metadata", "metadata with interchange_format_version and genesis_validators_root is required");
    if (!this.hasData) throw malformed("data", "data is required");
  }

  startObject(): void {
    if (this.enterSkip()) return;
    const top = this.top();
    if (top === undefined) {
      this.push("root");
      return;
    }
    if (top === "root") {
      if (this.field === "metadata") {
        this.push("metadata");
        return;
      }
      throw malformed(this.field ?? "", "expected an array");
    }
    if (top === "data") {
      this.entry++;
      this.seen = new Set();
      this.push("entry");
      return;
    }
    if (top === "blocks" || top === "atts") {
      this.index++;
      this.record = {};
      this.push(top === "blocks" ? "block" : "att");
      return;
    }
    throw malformed(this.path(), "unexpected object");
  }

  endObject(): void {
    if (this.leaveSkip()) return;
    const ctx = this.stack.pop();
    if (ctx === "metadata") {
      if (this.version === null) throw malformed("metadata.interchange_format_version", "is required");
      if (this.gvr === null) throw malformed("metadata.genesis_validators_root", "is required");
      // only now: the whole metadata object has been read (a key named twice in it is malformed first)
      this.emitMetadataIfReady();
    } else if (ctx === "entry") {
      for (const f of ["pubkey", "signed_blocks", "signed_attestations"]) {
        if (!this.seen.has(f)) throw malformed(`data[${this.entry}].${f}`, "is required");
      }
    } else if (ctx === "block") {
      this.emitBlock();
    } else if (ctx === "att") {
      this.emitAttestation();
    }
    this.field = null;
  }

  startArray(): void {
    if (this.enterSkip()) return;
    const top = this.top();
    if (top === "root" && this.field === "data") {
      this.hasData = true;
      this.push("data");
      return;
    }
    if (top === "entry" && this.field === "signed_blocks") {
      this.seen.add("signed_blocks");
      this.index = -1;
      this.push("blocks");
      return;
    }
    if (top === "entry" && this.field === "signed_attestations") {
      this.seen.add("signed_attestations");
      this.index = -1;
      this.push("atts");
      return;
    }
    throw malformed(this.path(), top === undefined ? "the document must be an object" : "unexpected array");
  }

  endArray(): void {
    if (this.leaveSkip()) return;
    this.stack.pop();
    this.field = null;
  }

  key(name: string): void {
    if (this.skip > 0) return;
    const top = this.top();
    const known: Partial<Record<Ctx, readonly string[]>> = {
      root: ["metadata", "data"],
      metadata: ["interchange_format_version", "genesis_validators_root"],
      entry: ["pubkey", "signed_blocks", "signed_attestations"],
      block: ["slot", "signing_root"],
      att: ["source_epoch", "target_epoch", "signing_root"],
    };
    this.field = name;
    if (top !== undefined && !known[top]?.includes(name)) this.skip = -1; // skip the value that follows
  }

  value(v: string | boolean | null, kind: "string" | "number" | "literal"): void {
    if (this.skip !== 0) {
      if (this.skip === -1) this.skip = 0; // an ignored scalar
      return;
    }
    const top = this.top();
    const path = this.path();
    if (top === "metadata") {
      if (kind !== "string") throw malformed(path, "must be a string");
      if (this.field === "interchange_format_version") this.version = v as string;
      else this.gvr = v as string;
      return;
    }
    if (top === "entry" && this.field === "pubkey") {
      this.seen.add("pubkey");
      if (kind !== "string" || !isHex(v as string, 48))
        throw malformed(path, "must be a 0x-hex public key of 48 bytes");
      this.sink.pubkey(this.entry, bytes(v as string));
      return;
    }
    if (top === "block" || top === "att") {
      if (this.field === "signing_root") {
        if (v === null) return;
        if (kind !== "string" || !isHex(v as string, 32)) throw malformed(path, "must be a 0x-hex root of 32 bytes");
        this.record.signing_root = v as string;
        return;
      }
      if ((kind !== "string" && kind !== "number") || !UINT_RE.test(v as string) || BigInt(v as string) > U64_MAX) {
        throw malformed(path, "must be an unsigned 64-bit integer as a decimal string");
      }
      this.record[this.field!] = v as string;
      return;
    }
    throw malformed(path, top === "root" ? "must be an object or array" : "unexpected value");
  }

  private emitMetadataIfReady(): void {
    if (this.metadataSent || this.version === null || this.gvr === null) return;
    if (this.version !== INTERCHANGE_FORMAT_VERSION) {
      throw new InterchangeError(
        { code: InterchangeErrorCode.Version, version: this.version },
        `interchange_format_version ${JSON.stringify(this.version)} is not supported (only "5")`,
      );
    }
    if (!isHex(this.gvr, 32)) throw malformed("metadata.genesis_validators_root", "must be a 0x-hex root of 32 bytes");
    this.metadataSent = true;
    this.sink.metadata({ version: this.version, genesisValidatorsRoot: bytes(this.gvr) });
  }

  private emitBlock(): void {
    const r = this.record;
    if (r.slot === undefined || r.slot === null) throw malformed(`${this.path()}.slot`, "is required");
    this.sink.block(this.entry, { slot: BigInt(r.slot), signingRoot: rootOf(r.signing_root) });
  }

  private emitAttestation(): void {
    const r = this.record;
    for (const f of ["source_epoch", "target_epoch"]) {
      if (r[f] === undefined || r[f] === null) throw malformed(`${this.path()}.${f}`, "is required");
    }
    this.sink.attestation(this.entry, {
      source: BigInt(r.source_epoch!),
      target: BigInt(r.target_epoch!),
      signingRoot: rootOf(r.signing_root),
    });
  }

  private enterSkip(): boolean {
    if (this.skip === -1) this.skip = 1;
    else if (this.skip > 0) this.skip++;
    else return false;
    return true;
  }

  private leaveSkip(): boolean {
    if (this.skip <= 0) return false;
    this.skip--;
    return true;
  }

  private push(c: Ctx): void {
    this.stack.push(c);
    this.field = null;
  }

  private top(): Ctx | undefined {
    return this.stack[this.stack.length - 1];
  }

  private path(): string {
    const parts: string[] = [];
    for (const c of this.stack) {
      if (c === "metadata") parts.push("metadata");
      else if (c === "data") parts.push("data");
      else if (c === "entry") parts.push(`[${this.entry}]`);
      else if (c === "blocks") parts.push(".signed_blocks");
      else if (c === "atts") parts.push(".signed_attestations");
      else if (c === "block" || c === "att") parts.push(`[${this.index}]`);
    }
    let p = parts.join("");
    if (this.field !== null) p = p.length === 0 ? this.field : `${p}.${this.field}`;
    return p;
  }
}

function isHex(v: string, len: number): boolean {
  return v.length === 2 + 2 * len && HEX_RE.test(v);
}

function bytes(v: string): Uint8Array {
  return new Uint8Array(Buffer.from(v.slice(2), "hex"));
}

function rootOf(v: string | null | undefined): Uint8Array | null {
  return v === undefined || v === null ? null : bytes(v);
}

function malformed(path: string, what: string): InterchangeError {
  return new InterchangeError({ code: InterchangeErrorCode.Malformed, path }, `interchange ${path} ${what}`.trim());
}

function mapJsonError(e: unknown): unknown {
  if (!(e instanceof JsonStreamError)) return e;
  if (e.type.code === JsonStreamErrorCode.Truncated) {
    return new InterchangeError(
      { code: InterchangeErrorCode.Truncated, offset: e.type.offset },
      `interchange file is truncated: ${e.message}`,
    );
  }
  if (e.type.code === JsonStreamErrorCode.DuplicateKey) {
    return new InterchangeError(
      { code: InterchangeErrorCode.Malformed, path: `character ${e.type.offset}` },
      `interchange file names a key twice in one object: ${e.message}`,
    );
  }
  if (e.type.code === JsonStreamErrorCode.TooLarge) {
    return new InterchangeError({ code: InterchangeErrorCode.TooLarge, path: `character ${e.type.offset}` }, e.message);
  }
  return new InterchangeError({ code: InterchangeErrorCode.Malformed, path: `character ${e.type.offset}` }, e.message);
}
