import type { HsmErrorType } from "./errors.js";
import type { KeySelector } from "./pkcs11Config.js";

/** One key a module worker serves: its token, PIN file and selector. */
export interface WorkerKeySpec {
  tokenLabel: string;
  pinFile: string;
  key: KeySelector;
}

/**
 * Messages to a module's worker thread. `connect` (re)initialises the module from scratch, logs in and
 * finds every key; `add` finds more keys on the connected module; `sign` signs with key number `key` of the last connect; `close` finalises.
 */
export type WorkerRequest =
  | { id: number; op: "connect" | "add"; module: string; keys: WorkerKeySpec[] }
  | { id: number; op: "sign"; key: number; message: Uint8Array }
  | { id: number; op: "close" };

/** Replies carry the request's id; id 0 is the worker's "ready" once its modules are loaded. */
export type WorkerReply =
  | { id: number; ok: true; publicKeys?: Uint8Array[]; signature?: Uint8Array }
  | { id: number; ok: false; error: HsmErrorType; message: string };
