import { readPinFile } from "./pkcs11Config.js";
import { Pkcs11Library, type TokenSession } from "./pkcs11Token.js";

/** A token to administer (the `keys hsm` commands): module, token label and PIN file. */
export interface TokenTarget {
  module: string;
  tokenLabel: string;
  pinFile: string;
}

/**
 * Runs `f` in a logged-in session and closes everything after, synchronously: for the CLI, never for
 * a running signer (whose calls go through the module's worker thread).
 */
export function withTokenSession<T>(t: TokenTarget, readWrite: boolean, f: (s: TokenSession) => T): T {
  const lib = Pkcs11Library.load(t.module);
  try {
    const session = lib.open(t.tokenLabel, readPinFile(t.pinFile), readWrite);
    try {
      return f(session);
    } finally {
      session.close();
    }
  } finally {
    lib.finalize();
  }
}
