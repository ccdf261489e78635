// The public face of http/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { buildHttpApp } from "./app.js";
export type { HttpLimits } from "./hardening.js";
export { DEFAULT_HTTP_LIMITS } from "./hardening.js";
export { enforceClientAllowList, readAllowList } from "./plugins/tlsAllowList.js";
export { dashboardRoutes } from "./routes/dashboard/dashboardRoutes.js";
export { loadStaticBundle } from "./routes/dashboard/staticBundle.js";
export { doppelgangerRoutes } from "./routes/eth2/doppelgangerRoutes.js";
export { signRoutes } from "./routes/eth2/signRoutes.js";
export { requestTotals, SignStats } from "./routes/eth2/signStats.js";
export { STATS_KEEP_MINUTES, statsRoutes } from "./routes/eth2/statsRoutes.js";
export { failoverRoutes, failoverStatusOf } from "./routes/failover/failoverRoutes.js";
export { keymanagerRoutes } from "./routes/keymanager/keymanagerRoutes.js";
export { eventRoutes } from "./routes/monitor/eventRoutes.js";
export { AlertFeed } from "./routes/monitor/feed.js";
export { monitorRoutes } from "./routes/monitor/monitorRoutes.js";
export { timelineRoutes } from "./routes/monitor/timelineRoutes.js";
export { httpStatusOf } from "./statusCodes.js";
