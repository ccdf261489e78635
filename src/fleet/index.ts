// The public face of fleet/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).

export type { HistoryRow, KeyObservationRow, MaintenanceRow } from "./fleetQueries.js";
export { FleetQueries } from "./fleetQueries.js";
export { pruneFleetHistory } from "./historyRetention.js";
export type { IngestHooks } from "./ingestService.js";
export { IngestService } from "./ingestService.js";
export { MaintenanceService, notFound } from "./maintenanceService.js";
export type { FleetMetrics } from "./metrics.js";
export { createFleetMetrics } from "./metrics.js";
export type { AgentReportWire, KeyWire, SourceWire } from "./reportFormat.js";
export { DEFAULT_MAX_REPORT_BYTES, parseReport, REPORT_VERSION } from "./reportFormat.js";
export { ReportRateLimitedError, ReportRateLimiter } from "./reportRateLimit.js";
export { signaturesOf } from "./signingTimeline.js";
export type { AuthContext } from "./tokens.js";
export { TOKEN_CACHE_MS, TOKEN_ROLES, TokenService } from "./tokens.js";
