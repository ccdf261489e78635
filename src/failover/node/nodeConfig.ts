import { readFile } from "node:fs/promises";
import { writeFileDurableAsync } from "../../util/durableFile.js";
import { FailoverError, FailoverErrorCode } from "../errors.js";

const SECTION_RE = /^\s*\[([^\]]+)\]\s*(#.*)?$/;
const KEY_RE = /^\s*double_sign_check_height\s*=\s*([0-9]+)\s*(#.*)?$/;

/**
 * Sets `[consensus] double_sign_check_height` in the node's config.toml text: at start the node looks for
 * its own signatures in that many recent commits and refuses to run if it finds one (another node still
 * signs). Other lines, comments and layout stay as they are.
 */
export function setDoubleSignCheckHeight(toml: string, height: bigint): string {
  const lines = toml.split("\n");
  const line = `double_sign_check_height = ${height}`;
  let section: string | null = null;
  let header = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const s = SECTION_RE.exec(l);
    if (s) {
      if (section === "consensus") break;
      section = s[1]!.trim();
      if (section === "consensus") header = i;
      continue;
    }
    if (section === "consensus" && /^\s*double_sign_check_height\s*=/.test(l)) {
      lines[i] = line;
      return lines.join("\n");
    }
  }
  if (header >= 0) {
    lines.splice(header + 1, 0, line);
    return lines.join("\n");
  }
  const sep = toml.length === 0 || toml.endsWith("\n") ? "" : "\n";
  return `${toml}${sep}\n[consensus]\n${line}\n`;
}

/** The value in `[consensus]`, or null when it is not set there. */
export function readDoubleSignCheckHeight(toml: string): bigint | null {
  let section: string | null = null;
  for (const l of toml.split("\n")) {
    const s = SECTION_RE.exec(l);
    if (s) {
      section = s[1]!.trim();
      continue;
    }
    const m = section === "consensus" ? KEY_RE.exec(l) : null;
    if (m) return BigInt(m[1]!);
  }
  return null;
}

/** Writes the setting into the file (atomically, keeping its mode) unless it already holds that value. */
export async function ensureDoubleSignCheckHeight(file: string, height: bigint): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new FailoverError(
      { code: FailoverErrorCode.NodeConfigInvalid, file },
      `cannot read the node config ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  if (readDoubleSignCheckHeight(text) === height) return false;
  await writeFileDurableAsync(file, setDoubleSignCheckHeight(text, height), { keepOwner: true });
  return true;
}
