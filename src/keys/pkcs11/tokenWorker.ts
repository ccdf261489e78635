import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { HsmError, HsmErrorCode } from "./errors.js";
import { readPinFile } from "./pkcs11Config.js";
import { type FoundKey, Pkcs11Library, type TokenSession } from "./pkcs11Token.js";
import type { WorkerKeySpec, WorkerReply, WorkerRequest } from "./workerProtocol.js";

/**
 * The one thread that talks to a PKCS#11 module: every call is blocking, and a slow token must never
 * stall the event loop (or the thread pool the store fsyncs on). Requests are handled one at a time,
 * so a session never runs two operations at once.
 */
let lib: Pkcs11Library | null = null;
let sessions: TokenSession[] = [];
/** One logged-in session per (token, PIN file). */
const byToken = new Map<string, TokenSession>();
let keys: { session: TokenSession; found: FoundKey }[] = [];
/** Hash of the PIN a token refused, per token: never sent again (tokens lock after a few wrong PINs). */
const refusedPins = new Map<string, string>();

function reset(): void {
  for (const s of sessions) s.close();
  sessions = [];
  byToken.clear();
  keys = [];
  lib?.finalize();
  lib = null;
}

function connect(module: string, specs: WorkerKeySpec[]): Uint8Array[] {
  reset();
  lib = Pkcs11Library.load(module);
  return add(module, specs);
}

/** Finds more keys on the connected module (another signer section using the same module). */
function add(module: string, specs: WorkerKeySpec[]): Uint8Array[] {
  if (lib === null) throw new HsmError({ code: HsmErrorCode.Unavailable, module }, "not connected");
  const found: typeof keys = [];
  for (const spec of specs) {
    const tokenKey = `${spec.tokenLabel}\n${spec.pinFile}`;
    let session = byToken.get(tokenKey);
    if (session === undefined) {
      const pin = readPinFile(spec.pinFile);
      const pinHash = createHash("sha256").update(pin).digest("hex");
      if (refusedPins.get(spec.tokenLabel) === pinHash)
        throw new HsmError(
          { code: HsmErrorCode.Login, module, token: spec.tokenLabel },
          `token "${spec.tokenLabel}" refused this PIN before; not retried until ${spec.pinFile} changes`,
        );
      try {
        session = lib.open(spec.tokenLabel, pin);
      } catch (e) {
        if (e instanceof HsmError && e.code === HsmErrorCode.Login) refusedPins.set(spec.tokenLabel, pinHash);
        throw e;
      }
      refusedPins.delete(spec.tokenLabel);
      sessions.push(session);
      byToken.set(tokenKey, session);
    }
    found.push({ session, found: session.findKey(spec.key) });
  }
  // all or nothing: key numbers stay aligned with the caller's list
  keys.push(...found);
  return found.map((k) => k.found.info.publicKey);
}

function handle(req: WorkerRequest): WorkerReply {
  try {
    switch (req.op) {
      case "connect":
        return { id: req.id, ok: true, publicKeys: connect(req.module, req.keys) };
      case "add":
        return { id: req.id, ok: true, publicKeys: add(req.module, req.keys) };
      case "sign": {
        const k = keys[req.key];
        if (k === undefined) throw new HsmError({ code: HsmErrorCode.Unavailable }, "not connected");
        return { id: req.id, ok: true, signature: k.session.sign(k.found.handle, req.message) };
      }
      case "close":
        reset();
        return { id: req.id, ok: true };
    }
  } catch (e) {
    if (req.op === "connect") reset();
    if (e instanceof HsmError) return { id: req.id, ok: false, error: e.type, message: e.message };
    return {
      id: req.id,
      ok: false,
      error: { code: HsmErrorCode.Module },
      message: e instanceof Error ? e.message : String(e),
    };
  }
}

parentPort?.on("message", (req: WorkerRequest) => parentPort!.postMessage(handle(req)));
// id 0: ready (the module's timeouts count from here, not from the thread's start)
parentPort?.postMessage({ id: 0, ok: true } satisfies WorkerReply);
