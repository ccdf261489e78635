/**
 * Wire types of the HTTP API the dashboard reads (snake_case as the server sends them; see docs/monitor.md).
 * They come from the server's schemas (src/schemas/, the one module web/ may import from src/): type
 * imports only, so nothing of the server is bundled.
 */
export type {
  Alert,
  AlertStatus,
  DoppelgangerEntry,
  DoppelgangerStatus,
  EpochSignatures,
  HistoryInterval,
  Host,
  HostNode,
  KeyPage,
  KeyRow,
  MaintenanceWindow,
  MinuteStats,
  Severity,
  SignerStats,
  Timeline,
} from "../../../src/schemas/index.js";
