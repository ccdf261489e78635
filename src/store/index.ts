// The public face of store/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { AlertListFilter, AlertRow } from "./alerts/alertsRepository.js";
export { alertsRepository } from "./alerts/alertsRepository.js";
export type { NotificationRow } from "./alerts/notificationsRepository.js";
export { notificationsRepository } from "./alerts/notificationsRepository.js";
export type { CometStateRow } from "./cometbft/cometSignStateRepository.js";
export { cometSignStateRepository } from "./cometbft/cometSignStateRepository.js";
export { StoreError, StoreErrorCode } from "./errors.js";
export { ethActivityRepository } from "./ethereum/ethActivityRepository.js";
export { ethDoppelgangerRepository } from "./ethereum/ethDoppelgangerRepository.js";
export { ethHistoryRepository } from "./ethereum/ethHistoryRepository.js";
export type { StagedAttestation, StagedBlock } from "./ethereum/ethInterchangeRepository.js";
export { ethInterchangeRepository } from "./ethereum/ethInterchangeRepository.js";
export type { EthSigningRepository } from "./ethereum/ethSigningRepository.js";
export { ethSigningRepository } from "./ethereum/ethSigningRepository.js";
export { ethTimelineRepository } from "./ethereum/ethTimelineRepository.js";
export { ethValidatorsRepository } from "./ethereum/ethValidatorsRepository.js";
export type {
  AttestationStateRow,
  BlockStateRow,
  NewAttestation,
  NewBlock,
  StateChange,
  StoredAttestation,
} from "./ethereum/types.js";
export type { OutboxEvent, OutboxRow } from "./events/outboxRepository.js";
export { outboxRepository } from "./events/outboxRepository.js";
export type { LeaseRow } from "./failover/failoverLeaseRepository.js";
export { failoverLeaseRepository } from "./failover/failoverLeaseRepository.js";
export type { EthKeyHostRow } from "./fleet/ethKeyHostsRepository.js";
export { ethKeyHostsRepository } from "./fleet/ethKeyHostsRepository.js";
export type { HistoryClose, NewHistory } from "./fleet/historyRepository.js";
export { historyKeyId, historyRepository } from "./fleet/historyRepository.js";
export type { HistoryRow, HostKeyRow, KeyListFilter, KeyObservationRow, KeyRef } from "./fleet/hostKeysRepository.js";
export { groupId, hostKeysRepository } from "./fleet/hostKeysRepository.js";
export type { HostRow, HostTouch, SourceRow } from "./fleet/hostsRepository.js";
export { hostsRepository } from "./fleet/hostsRepository.js";
export type { MaintenanceRow } from "./fleet/maintenanceRepository.js";
export { maintenanceRepository } from "./fleet/maintenanceRepository.js";
export type { TokenRole, TokenRow } from "./fleet/ownersRepository.js";
export { ownersRepository } from "./fleet/ownersRepository.js";
export { sweepRepository } from "./fleet/sweepRepository.js";
export type { LockKey } from "./locks.js";
export { LockClass, lockForImport, lockKeys, lockKeysStatement } from "./locks.js";
export { DEFAULT_STORE_URL, openStore, redactUrl } from "./openStore.js";
export type { DbDurability, ReplicationSetup, ReplicationState } from "./pgDurability.js";
export { DB_DURABILITY_LEVELS, DEFAULT_DB_DURABILITY, durabilityOk } from "./pgDurability.js";
export { PostgresStore } from "./postgresStore.js";
export { substrateHistoryRepository } from "./substrate/substrateHistoryRepository.js";
export type { SubstrateKeyRef } from "./substrate/substrateKeysRepository.js";
export { keyRefString, substrateKeysRepository } from "./substrate/substrateKeysRepository.js";
export type { SubstrateSigningRepository } from "./substrate/substrateSigningRepository.js";
export { substrateSigningRepository } from "./substrate/substrateSigningRepository.js";
export type {
  BabeBlockRow,
  BeefyVoteRow,
  GrandpaProposalRow,
  GrandpaVoteRow,
  ParaVoteRow,
  SubstrateKeyState,
} from "./substrate/types.js";
export { PARA_STATEMENT_BITS } from "./substrate/types.js";
export type { SqlTx, Store } from "./types.js";
