import { type CryptoType, checkPublicKey, parseKeyType } from "../../chains/substrate/index.js";
import type { KeyPair, KeystoreKey, VrfSignature, VrfTranscriptSpec } from "../../keys/index.js";
import { toHex } from "../../util/hex.js";
import { shortKey } from "../../util/logger.js";
import type { SubstrateSignerModules } from "./substrateSigner.js";

/**
 * The Substrate keystore calls that are not signatures (sp_keystore generate, insert, and the BABE VRF),
 * outside the gRPC transport: parse, check the key against the keystore folder, bind it to its key type in
 * the database (protection follows the public key under one type), then act. The transport only translates.
 */
export class SubstrateKeys {
  constructor(private readonly m: SubstrateSignerModules) {}

  /** sp_keystore generate: a new key of this type (from the seed when given), filed and bound. */
  async generate(keyTypeInput: string | undefined, crypto: CryptoType, seed: string | undefined): Promise<Uint8Array> {
    const keyType = parseKeyType(keyTypeInput);
    const k = await this.file(keyType, this.m.keystore.derive(crypto, seed));
    this.m.logger.info("Substrate key generated", { keyType, crypto, publicKey: shortKey(toHex(k.publicKey)) });
    return k.publicKey;
  }

  /** sp_keystore insert: the SURI must derive the given public key; filed and bound. */
  async insert(keyTypeInput: string | undefined, suri: string, publicKey: Uint8Array): Promise<void> {
    const keyType = parseKeyType(keyTypeInput);
    const k = await this.file(keyType, this.m.keystore.pairFor(keyType, suri, publicKey));
    this.m.logger.info("Substrate key inserted", {
      keyType: k.keyType,
      crypto: k.crypto,
      publicKey: shortKey(toHex(k.publicKey)),
    });
  }

  /**
   * A BABE slot claim (sr25519 VRF); null: the keystore holds no such key. A VRF output signs nothing
   * slashable, but the key is bound to its type first, as for a signature.
   */
  async vrfSign(
    keyTypeInput: string | undefined,
    publicKeyInput: Uint8Array,
    transcript: () => { spec: VrfTranscriptSpec; extra: VrfTranscriptSpec | null },
  ): Promise<VrfSignature | null> {
    const keyType = parseKeyType(keyTypeInput);
    const publicKey = checkPublicKey("sr25519", publicKeyInput);
    const pair = this.m.keystore.get(keyType, "sr25519", publicKey);
    if (pair?.vrfSign === undefined) return null;
    await this.m.protection.bindKey({ keyType, publicKey });
    const { spec, extra } = transcript();
    return pair.vrfSign(spec, extra);
  }

  /**
   * One public key, one key type: the key is checked against the keystore folder and bound to this type
   * in the database before its file is written, so a refused key leaves nothing behind.
   */
  private async file(keyType: string, key: { pair: KeyPair; suri: string }): Promise<KeystoreKey> {
    this.m.keystore.assertOneType(keyType, key.pair.publicKey);
    await this.m.protection.bindKey({ keyType, publicKey: key.pair.publicKey });
    return this.m.keystore.store(keyType, key);
  }
}
