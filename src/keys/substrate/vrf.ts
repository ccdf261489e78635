import { randomBytes } from "node:crypto";
import { ed25519, ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { Transcript } from "../../util/merlin.js";

type Point = InstanceType<typeof ristretto255.Point>;
const Point = ristretto255.Point;
const L = ed25519.Point.Fn.ORDER;

/** One labelled item of a VRF transcript (sp_core VrfTranscript: `(label, bytes)` pairs). */
export interface VrfTranscriptItem {
  label: string | Uint8Array;
  value: Uint8Array;
}

export interface VrfTranscriptSpec {
  label: string | Uint8Array;
  items: readonly VrfTranscriptItem[];
}

/** schnorrkel VRF signature: pre-output (32) ‖ c (32) ‖ s (32); as sp_core encodes VrfSignature. */
export interface VrfSignature {
  preOutput: Uint8Array;
  challenge: Uint8Array;
  proof: Uint8Array;
}

function leBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let x = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function leNumber(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

const mod = (n: bigint): bigint => ((n % L) + L) % L;

function build(spec: VrfTranscriptSpec): Transcript {
  const t = new Transcript(spec.label);
  for (const it of spec.items) t.appendMessage(it.label, it.value);
  return t;
}

/** schnorrkel's vrf_hash: the input point, bound to the public key. */
function vrfInput(spec: VrfTranscriptSpec, publicKey: Uint8Array): Point {
  const t = build(spec);
  t.appendMessage("vrf-nm-pk", publicKey);
  return ristretto255_hasher.deriveToCurve!(t.challengeBytes("VRFHash", 64)) as Point;
}

/**
 * The secret half of a schnorrkel keypair in the "half ed25519" layout that the keystore keeps:
 * scalar × 8 (32 bytes, little endian) ‖ nonce (32 bytes).
 */
export interface Sr25519Secret {
  secret: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * schnorrkel VRF over a Merlin transcript (sp_core sr25519 vrf_sign: `vrf_create_hash` then
 * `dleq_proove(extra, inout, kusama = true)`). `extra` defaults to the empty transcript "VRF".
 */
export function vrfSign(
  key: Sr25519Secret,
  spec: VrfTranscriptSpec,
  extra: VrfTranscriptSpec | null = null,
  random: Uint8Array = randomBytes(32),
): VrfSignature {
  const scalar = leNumber(key.secret.subarray(0, 32)) >> 3n;
  const nonce = key.secret.subarray(32, 64);
  const input = vrfInput(spec, key.publicKey);
  const output = input.multiply(scalar);
  const t = build(extra ?? { label: "VRF", items: [] });
  t.appendMessage("proto-name", "DLEQProof");
  t.appendMessage("vrf:h", input.toBytes());
  const r = mod(leNumber(t.witnessBytes("proving\u00000", 64, [nonce], random)));
  t.appendMessage("vrf:R=g^r", Point.BASE.multiply(r).toBytes());
  t.appendMessage("vrf:h^r", input.multiply(r).toBytes());
  t.appendMessage("vrf:pk", key.publicKey);
  const preOutput = output.toBytes();
  t.appendMessage("vrf:h^sk", preOutput);
  const c = mod(leNumber(t.challengeBytes("prove", 64)));
  const s = mod(r - c * scalar);
  return { preOutput, challenge: leBytes(c), proof: leBytes(s) };
}

/** Verifies a VRF signature (what the runtime does); used by tests and as a self-check. */
export function vrfVerify(
  publicKey: Uint8Array,
  spec: VrfTranscriptSpec,
  sig: VrfSignature,
  extra: VrfTranscriptSpec | null = null,
): boolean {
  let pub: Point;
  let output: Point;
  try {
    pub = Point.fromBytes(publicKey);
    output = Point.fromBytes(sig.preOutput);
  } catch {
    return false;
  }
  const c = leNumber(sig.challenge);
  const s = leNumber(sig.proof);
  if (c >= L || s >= L || pub.equals(Point.ZERO)) return false;
  const input = vrfInput(spec, publicKey);
  const t = build(extra ?? { label: "VRF", items: [] });
  t.appendMessage("proto-name", "DLEQProof");
  t.appendMessage("vrf:h", input.toBytes());
  // verification handles public data only, so the variable-time multiplication is fine here
  t.appendMessage("vrf:R=g^r", pub.multiplyUnsafe(c).add(Point.BASE.multiplyUnsafe(s)).toBytes());
  t.appendMessage("vrf:h^r", output.multiplyUnsafe(c).add(input.multiplyUnsafe(s)).toBytes());
  t.appendMessage("vrf:pk", publicKey);
  t.appendMessage("vrf:h^sk", sig.preOutput);
  return mod(leNumber(t.challengeBytes("prove", 64))) === c;
}
