// The public face of chains/substrate/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { KeystoreEntry, SubstrateKeyFactsWire } from "./agentSession.js";
export {
  keystoreEntryFromFileName,
  parseNodeRoles,
  parseRpcBool,
  parseSubstrateFacts,
  substrateActivity,
} from "./agentSession.js";
export { classifyPrehashed, classifySignRequest } from "./classify.js";
export { SubstrateError, SubstrateErrorCode } from "./errors.js";
export type { InterchangeKey } from "./interchange.js";
export {
  parseSubstrateInterchange,
  SUBSTRATE_INTERCHANGE_FORMAT,
  SUBSTRATE_INTERCHANGE_VERSION,
  SubstrateInterchangeError,
  SubstrateInterchangeErrorCode,
  stageName,
} from "./interchange.js";
export { checkPublicKey, parseCryptoType, parseKeyType } from "./keyTypes.js";
export type { ParaVoteState, RuleResult } from "./rules.js";
export { checkBabe, checkBeefy, checkGrandpa, checkPara } from "./rules.js";
export type {
  BabeRecord,
  BeefyRecord,
  CryptoType,
  GrandpaRecord,
  ParaRecord,
  ParaStatement,
  PayloadView,
  SubstrateRecord,
} from "./types.js";
export { GRANDPA_STAGE_NAMES, GrandpaStage, PUBLIC_KEY_LENGTH, paraSide } from "./types.js";
