import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Ed25519Key, ed25519FromSeed } from "../util/curve25519.js";
import { AppError, errorMessage } from "../util/errors.js";

export enum KeyFileErrorCode {
  Unreadable = "ERR_KEY_FILE_UNREADABLE",
  Invalid = "ERR_KEY_FILE_INVALID",
}

/** Carries the file name and what is wrong, never the key material. */
class KeyFileError extends AppError<{ code: KeyFileErrorCode; file: string; field?: string }> {}

export interface CometBftKey extends Ed25519Key {
  /** Upper-case hex of sha256(pubkey)[:20], as CometBFT shows validator addresses. */
  readonly address: string;
}

export function cometAddressOf(publicKey: Uint8Array): string {
  return createHash("sha256").update(publicKey).digest().subarray(0, 20).toString("hex").toUpperCase();
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses a CometBFT priv_validator_key.json (FilePVKey): the private value is seed ‖ public key. The
 * public key and the address in the file must match the ones derived from the seed, so a file edited
 * by hand or mixed up with another validator's is refused before anything is signed.
 */
export function parseCometBftKeyFile(text: string, file: string): CometBftKey {
  const fail = (message: string, field?: string): KeyFileError =>
    new KeyFileError(
      field === undefined ? { code: KeyFileErrorCode.Invalid, file } : { code: KeyFileErrorCode.Invalid, file, field },
      `${file}: ${message}`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail("not valid JSON");
  }
  const o = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, Record<string, unknown> | unknown>;
  const priv = o.priv_key as { type?: unknown; value?: unknown } | undefined;
  if (priv?.type !== "tendermint/PrivKeyEd25519")
    throw fail("priv_key.type must be tendermint/PrivKeyEd25519", "priv_key.type");
  if (typeof priv.value !== "string" || !B64.test(priv.value))
    throw fail("priv_key.value must be base64", "priv_key.value");
  const raw = Buffer.from(priv.value, "base64");
  if (raw.length !== 64) throw fail("priv_key.value must hold 64 bytes (seed and public key)", "priv_key.value");
  const seed = new Uint8Array(raw.subarray(0, 32));
  const key = ed25519FromSeed(seed);
  const pub = Buffer.from(key.publicKey);
  const matches = Buffer.compare(pub, raw.subarray(32)) === 0;
  // Best effort: the KeyObject holds the key from here on; the decoded copies are wiped.
  seed.fill(0);
  raw.fill(0);
  if (!matches) throw fail("priv_key.value: public half does not belong to the seed", "priv_key.value");
  const pk = o.pub_key as { type?: unknown; value?: unknown } | undefined;
  if (pk !== undefined) {
    if (pk.type !== "tendermint/PubKeyEd25519" || pk.value !== pub.toString("base64"))
      throw fail("pub_key does not match priv_key", "pub_key");
  }
  const address = cometAddressOf(key.publicKey);
  if (o.address !== undefined && String(o.address).toUpperCase() !== address)
    throw fail("address does not match priv_key", "address");
  return { publicKey: key.publicKey, sign: key.sign, address };
}

export function loadCometBftKeyFile(file: string): CometBftKey {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KeyFileError({ code: KeyFileErrorCode.Unreadable, file }, `cannot read ${file}: ${errorMessage(e)}`);
  }
  return parseCometBftKeyFile(text, file);
}
