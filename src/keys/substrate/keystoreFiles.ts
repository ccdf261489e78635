const KEY_TYPE_RE = /^[\x21-\x7e]{4}$/;

/** Local keystore file name: hex(key type) ‖ hex(public key) (sc-keystore LocalKeystore::key_file_path). */
export function keystoreFileName(keyType: string, publicKey: Uint8Array): string {
  return Buffer.from(keyType, "latin1").toString("hex") + Buffer.from(publicKey).toString("hex");
}

/** Splits a keystore file name; null for files that are not keys (the node's keystore may hold others). */
export function parseKeystoreFileName(name: string): { keyType: string; publicKey: Uint8Array } | null {
  if (!/^[0-9a-f]{8}([0-9a-f]{64}|[0-9a-f]{66})$/.test(name)) return null;
  const keyType = Buffer.from(name.slice(0, 8), "hex").toString("latin1");
  if (!KEY_TYPE_RE.test(keyType)) return null;
  return { keyType, publicKey: new Uint8Array(Buffer.from(name.slice(8), "hex")) };
}
