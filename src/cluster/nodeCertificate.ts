import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { join } from "node:path";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

export interface NodeCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/** How long a node certificate is valid: the cluster file pins it, so renewal is a new `cluster init`. */
export const NODE_CERT_YEARS = 10;

let engineSet = false;
function engine(): void {
  if (engineSet) return;
  pkijs.setEngine(
    "node",
    new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as pkijs.CryptoEngineParameters["crypto"] }),
  );
  engineSet = true;
}

/** The TLS name every node certificate carries, which peers use as the server name. */
export function nodeServerName(index: number): string {
  return `slashguard-node-${index}`;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Uint8Array.from(ip.split(".").map(Number));
  // IPv6: let the URL parser expand it, then read the eight groups
  const full = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const parts = full.split("::");
  const head = parts[0] === "" ? [] : parts[0]!.split(":");
  const tail = parts.length > 1 && parts[1] !== "" ? parts[1]!.split(":") : [];
  const groups = [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/**
 * A self-signed ECDSA P-256 certificate for cluster node `index` (not a CA: it is pinned, never used to
 * issue). Its names: the node's server name and the host of its address (DNS name or IP).
 */
export async function createNodeCertificate(index: number, host: string): Promise<NodeCertificate> {
  engine();
  const alg = { name: "ECDSA", namedCurve: "P-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: Uint8Array.from([1, ...randomBytes(15)]) });
  const name = (): pkijs.AttributeTypeAndValue =>
    new pkijs.AttributeTypeAndValue({
      type: "2.5.4.3",
      value: new asn1js.Utf8String({ value: nodeServerName(index) }),
    });
  cert.issuer.typesAndValues.push(name());
  cert.subject.typesAndValues.push(name());
  const now = Date.now();
  cert.notBefore.value = new Date(now - 60_000);
  cert.notAfter.value = new Date(now + NODE_CERT_YEARS * 365 * 86_400_000);
  const bare = host.replace(/^\[|\]$/g, "");
  const names = [new pkijs.GeneralName({ type: 2, value: nodeServerName(index) })];
  if (isIP(bare) !== 0)
    names.push(new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(bare) }) }));
  else names.push(new pkijs.GeneralName({ type: 2, value: bare }));
  const constraints = new pkijs.BasicConstraints({ cA: false });
  const san = new pkijs.GeneralNames({ names });
  const usage = new asn1js.BitString({ valueHex: Uint8Array.from([0x80]), unusedBits: 7 }); // digitalSignature
  const eku = new pkijs.ExtKeyUsage({ keyPurposes: ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"] });
  cert.extensions = [
    new pkijs.Extension({ extnID: "2.5.29.19", critical: true, extnValue: constraints.toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: "2.5.29.15", critical: true, extnValue: usage.toBER(false) }),
    new pkijs.Extension({ extnID: "2.5.29.37", critical: false, extnValue: eku.toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: "2.5.29.17", critical: false, extnValue: san.toSchema().toBER(false) }),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey);
  await cert.sign(keys.privateKey, "SHA-256");
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const privateKeyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" })
    .export({ format: "pem", type: "pkcs8" })
    .toString();
  pkcs8.fill(0);
  return { certificatePem: pem("CERTIFICATE", cert.toSchema().toBER(false)), privateKeyPem };
}

/** Where node i's TLS key and certificate live, beside cluster.yaml (`cluster init` writes them). */
export function nodeTlsFiles(clusterDir: string, index: number): { dir: string; key: string; cert: string } {
  const dir = join(clusterDir, `node-${index}`);
  return { dir, key: join(dir, "node.key"), cert: join(dir, "node.crt") };
}
