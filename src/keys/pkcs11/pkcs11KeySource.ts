import { realpathSync, statSync } from "node:fs";
import type { Logger } from "../../util/logger.js";
import type { HsmError } from "./errors.js";
import type { HsmMetrics } from "./metrics.js";
import { describeKeyRef, type Pkcs11KeyRef } from "./pkcs11Config.js";
import { Pkcs11Module, type Pkcs11ModuleListener, type Pkcs11ModuleOptions } from "./pkcs11Module.js";

/** An Ed25519 key inside a token: the signature is made there; no secret is ever in this process. */
export interface Pkcs11Key {
  readonly publicKey: Uint8Array;
  /** For logs and the start-up banner (token and label, never the PIN). */
  readonly description: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface Pkcs11KeySet {
  keys: Pkcs11Key[];
  /** One check per module: ok while it signs, the error code while it is down. */
  health(): Record<string, { ok: boolean; detail?: string }>;
  close(): Promise<void>;
}

export type Pkcs11Timing = Omit<Pkcs11ModuleOptions, "module">;

export interface Pkcs11SourceModules {
  logger: Logger;
  metrics?: HsmMetrics | null;
  /** Told when a module goes down or comes back (for alerts). */
  listener?: Pkcs11ModuleListener;
}

/**
 * The modules of this process, one per library: C_Initialize is process-wide, so two signer sections
 * using one library must share its module (and its worker) instead of initialising it twice.
 */
const shared = new Map<string, { module: Pkcs11Module; users: number }>();

function moduleKey(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Opens the keys (grouped by module) and checks each by a signature inside its token. Refuses when any
 * key is missing, unsuitable or unreachable: a signer never starts without a key it was given.
 */
export async function openPkcs11Keys(
  refs: readonly Pkcs11KeyRef[],
  timing: Pkcs11Timing,
  m: Pkcs11SourceModules,
): Promise<Pkcs11KeySet> {
  const used: { key: string; module: Pkcs11Module; unlisten: () => void }[] = [];
  const release = async (): Promise<void> => {
    for (const u of used.splice(0)) {
      u.unlisten();
      const s = shared.get(u.key);
      if (s !== undefined && --s.users === 0) {
        shared.delete(u.key);
        await s.module.close();
      }
    }
  };
  const keys: Pkcs11Key[] = new Array(refs.length);
  for (const pinFile of new Set(refs.map((r) => r.pinFile))) {
    try {
      if ((statSync(pinFile).mode & 0o077) !== 0)
        m.logger.warn("PKCS#11 PIN file is readable by other users: make it 0600", { pinFile });
    } catch {
      // a missing file is reported by the login with its code
    }
  }
  try {
    const groups = new Map<string, number[]>();
    refs.forEach((r, i) => {
      const k = moduleKey(r.module);
      groups.set(k, [...(groups.get(k) ?? []), i]);
    });
    for (const [key, idx] of groups) {
      let s = shared.get(key);
      if (s === undefined) {
        s = { module: new Pkcs11Module({ ...timing, module: key }, m), users: 0 };
        shared.set(key, s);
      }
      s.users++;
      const module = s.module;
      used.push({ key, module, unlisten: m.listener === undefined ? () => {} : module.listen(m.listener) });
      const found = await module.addKeys(
        idx.map((i) => ({ tokenLabel: refs[i]!.tokenLabel, pinFile: refs[i]!.pinFile, key: refs[i]!.key })),
      );
      found.forEach((f, j) => {
        const ref = refs[idx[j]!]!;
        keys[idx[j]!] = {
          publicKey: f.publicKey,
          description: describeKeyRef(ref),
          sign: (message) => module.sign(f.index, message),
        };
        m.logger.info("PKCS#11 key loaded", {
          module: module.name,
          token: ref.tokenLabel,
          key: describeKeyRef(ref),
          publicKey: Buffer.from(f.publicKey).toString("hex"),
        });
      });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return {
    keys,
    health: () => {
      const out: Record<string, { ok: boolean; detail?: string }> = {};
      for (const u of used) {
        const err: HsmError | null = u.module.error;
        out[`hsm:${u.module.name}`] =
          err === null && u.module.isUp ? { ok: true } : { ok: false, detail: err?.code ?? "down" };
      }
      return out;
    },
    close: release,
  };
}
