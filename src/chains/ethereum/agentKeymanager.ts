import { BadRequestError } from "../../util/errors.js";
import type { KeyActivity } from "../../util/keyActivity.js";

/** A key a validator client has enabled, from the standard keymanager API. */
export interface KeymanagerKey {
  pubkey: string;
  source: "local" | "remote";
  /** Remote signer URL (remote keys only). */
  signerUrl: string | null;
  readonly: boolean;
}

const PUBKEY_RE = /^0x[0-9a-fA-F]{96}$/;

/** GET /eth/v1/keystores → `{"data":[{"validating_pubkey","derivation_path","readonly"}]}`. */
export function parseKeystoresList(body: unknown): KeymanagerKey[] {
  return dataArray(body).map((e, i) => {
    const o = obj(e, `data[${i}]`);
    return {
      pubkey: pubkey(o.validating_pubkey, `data[${i}].validating_pubkey`),
      source: "local",
      signerUrl: null,
      readonly: o.readonly === true,
    };
  });
}

/** GET /eth/v1/remotekeys → `{"data":[{"pubkey","url","readonly"}]}`. */
export function parseRemoteKeysList(body: unknown): KeymanagerKey[] {
  return dataArray(body).map((e, i) => {
    const o = obj(e, `data[${i}]`);
    if (typeof o.url !== "string" || o.url.length > 2048)
      throw new BadRequestError(`data[${i}].url must be a URL`, "url");
    return {
      pubkey: pubkey(o.pubkey, `data[${i}].pubkey`),
      source: "remote",
      signerUrl: o.url,
      readonly: o.readonly === true,
    };
  });
}

/** What an agent reports about one Ethereum validator key (wire form). */
export interface EthKeyFactsWire {
  source: "local" | "remote";
  signer_url: string | null;
  readonly: boolean;
}

export function parseEthFacts(v: unknown): EthKeyFactsWire {
  const o = obj(v, "facts");
  if (o.source !== "local" && o.source !== "remote")
    throw new BadRequestError('facts.source must be "local" or "remote"', "facts.source");
  const url = o.signer_url ?? null;
  if (url !== null && (typeof url !== "string" || url.length > 2048))
    throw new BadRequestError("facts.signer_url must be a URL", "facts.signer_url");
  return { source: o.source, signer_url: url as string | null, readonly: o.readonly === true };
}

/**
 * Ethereum: every key a validator client lists is enabled and signs its duties. A remote key whose
 * signer is reachable beyond the host (not loopback) is decided by that signer: hosts sharing it are
 * one signer with one slashing-protection database, not two (signerId says which).
 */
export function ethActivity(f: EthKeyFactsWire): KeyActivity {
  return { active: true, certainty: 1, signerId: f.source === "remote" ? sharedSignerId(f.signer_url) : null };
}

/** Origin of a remote signer URL when it names a host other than loopback; null otherwise. */
export function sharedSignerId(url: string | null): string | null {
  if (url === null) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const h = u.hostname.toLowerCase();
  if (
    h === "localhost" ||
    h.endsWith(".localhost") ||
    h === "[::1]" ||
    h === "::1" ||
    h.startsWith("127.") ||
    h === "0.0.0.0"
  )
    return null;
  return u.origin.toLowerCase();
}

function pubkey(v: unknown, field: string): string {
  if (typeof v !== "string" || !PUBKEY_RE.test(v))
    throw new BadRequestError(`${field} must be a 0x-hex BLS public key`, field);
  return v.toLowerCase();
}

function dataArray(body: unknown): unknown[] {
  const o = obj(body, "body");
  if (!Array.isArray(o.data)) throw new BadRequestError("data must be an array", "data");
  return o.data;
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadRequestError(`${field} must be a JSON object`, field);
  return v as Record<string, unknown>;
}
