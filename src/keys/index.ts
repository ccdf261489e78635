// The public face of keys/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { BlsPool } from "./blsPool.js";
export { cometAddressOf, loadCometBftKeyFile } from "./cometbftKeyFile.js";
export type { KdfLimits, KdfOptions } from "./eip2335.js";
export {
  DEFAULT_KDF_LIMITS,
  DEFAULT_PBKDF2_C,
  DEFAULT_SCRYPT_N,
  KDF_LIMIT_CEILING,
  kdfParams,
  parseKeystore,
} from "./eip2335.js";
export { KeyError, KeyErrorCode } from "./errors.js";
export { generateKeystores } from "./generate.js";
export { KeystoreDecryptor } from "./keystoreDecryptor.js";
export { loadKeystoreDir, loadKeystoreFile, readPasswordFor } from "./keystoreDir.js";
export type { AddedKeystore } from "./keystoreDirCached.js";
export { KeyCacheUpdater, loadKeystoreDirCached } from "./keystoreDirCached.js";
export type { ImportSource } from "./pkcs11/importSource.js";
export { readPrivValidatorKey, readSubstrateKeyFile, secureDelete } from "./pkcs11/importSource.js";
export { createHsmMetrics } from "./pkcs11/metrics.js";
export type { Pkcs11KeyRef } from "./pkcs11/pkcs11Config.js";
export { keyRefOf, Pkcs11BlockSchema } from "./pkcs11/pkcs11Config.js";
export type { Pkcs11Key, Pkcs11KeySet } from "./pkcs11/pkcs11KeySource.js";
export { openPkcs11Keys } from "./pkcs11/pkcs11KeySource.js";
export type { TokenKeyInfo, TokenSession } from "./pkcs11/pkcs11Token.js";
export type { TokenTarget } from "./pkcs11/tokenAdmin.js";
export type { KeyPair } from "./substrate/keyPair.js";
export { cryptoReady } from "./substrate/keyPair.js";
export type { KeystoreKey, ServedPair } from "./substrate/keystore.js";
export { copyKeystore, SubstrateKeystore } from "./substrate/keystore.js";
export type { VrfSignature, VrfTranscriptSpec } from "./substrate/vrf.js";
export type { BlsSharing, PartialSignatureScheme } from "./threshold/blsThreshold.js";
export { blsThresholdScheme, dealBlsKey } from "./threshold/blsThreshold.js";
export type { ClusterKey, ClusterNode } from "./threshold/clusterFile.js";
export { addClusterKeys, certificateFingerprint, readClusterFile, writeClusterFile } from "./threshold/clusterFile.js";
export type { DkgDealing, DkgKeyResult, DkgParams } from "./threshold/dkg.js";
export { DkgDealer, finishDkg, transcriptHash, verifyDealing } from "./threshold/dkg.js";
export { ThresholdError, ThresholdErrorCode } from "./threshold/errors.js";
export { bls12381G1 } from "./threshold/group.js";
export { assertThresholdParams, MAX_SHARES } from "./threshold/shamir.js";
export type { ThresholdKeyShare } from "./threshold/shareKeystores.js";
export {
  clusterKeyOf,
  loadShareKeystores,
  shareDir,
  writeShareKeystore,
  writeShareKeystores,
} from "./threshold/shareKeystores.js";
