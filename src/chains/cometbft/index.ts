// The public face of chains/cometbft/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { CometHomeKey, CometKeyFactsWire } from "./agentStatus.js";
export {
  cometActivity,
  parseCometConfigToml,
  parseCometFacts,
  parseCometStatus,
  parsePrivValidatorKeyPublic,
} from "./agentStatus.js";
export { CometSignError, CometSignErrorCode, CometWireError, CometWireErrorCode } from "./errors.js";
export type { SignState } from "./hrsRule.js";
export { decideHrs } from "./hrsRule.js";
export type { PrivvalMessage, PubKeyLayout, RemoteSignerError } from "./privvalMessages.js";
export { decodePrivvalMessage, encodePrivvalMessage } from "./privvalMessages.js";
export { delimit } from "./protobuf.js";
export { invalid } from "./rpcErrors.js";
export { parseBlockLastCommit, parseCommit, parseNetInfo, parseStatus, signedBy, unwrapJsonRpc } from "./rpcParse.js";
export type { CommitInfo, NetInfo, NodeStatus } from "./rpcTypes.js";
export type { RawStream } from "./secretConnection.js";
export { peerIdOf, readDelimitedFrom, SecretConnection } from "./secretConnection.js";
export { proposalSignBytes, voteExtensionSignBytes, voteSignBytes } from "./signBytes.js";
export type { StateFileFormat, ValidatorState } from "./stateFile.js";
export {
  checkValidatorState,
  formatStateFile,
  parseStateFile,
  StateFileError,
  serializeValidatorState,
} from "./stateFile.js";
export type { Hrs, Proposal, Timestamp, Vote } from "./types.js";
export { compareHrs, emptyProposal, emptyVote, formatHrs, Step } from "./types.js";
export { MAX_CHAIN_ID_BYTES, needsExtensionSignature, validateProposal, validateVote } from "./validate.js";
