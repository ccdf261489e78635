import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../util/logger.js";

/** Paths of the secrets a signer reads (files, or folders whose password files are checked). */
export interface SecretPaths {
  files: (string | undefined)[];
  /** Folders whose `*.txt` password files are secrets (keystores with passwords beside them). */
  passwordDirs: (string | undefined)[];
}

/**
 * Warns at start about token, password and key files that group or others may read: the process
 * still starts (the operator may have reasons), but the log says which file and its mode.
 */
export function warnReadableSecrets(paths: SecretPaths, logger: Logger): string[] {
  const loose: string[] = [];
  const check = (file: string): void => {
    try {
      const st = statSync(file);
      if (st.isFile() && (st.mode & 0o077) !== 0) loose.push(file);
    } catch {
      // absent files are reported by whoever reads them
    }
  };
  for (const f of paths.files) if (f !== undefined) check(f);
  for (const d of paths.passwordDirs) {
    if (d === undefined) continue;
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith(".txt")) check(join(d, n));
  }
  for (const file of loose) {
    logger.warn("Secret file is readable by group or others: chmod 600 it", {
      file,
      mode: `0${(statSync(file).mode & 0o777).toString(8)}`,
    });
  }
  return loose;
}
