// The public face of alerts/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export type { AlertStateSink } from "./alertEvents.js";
export { AlertService } from "./alertService.js";
export { NotificationDispatcher } from "./dispatcher.js";
export type { AlertMetrics } from "./metrics.js";
export { createAlertMetrics } from "./metrics.js";
export type { RoutedSink } from "./router.js";
export { AlertRouter } from "./router.js";
export { applySignerEvents } from "./signerEvents.js";
export { buildSinks, sinksSchema } from "./sinkConfig.js";
export { EmailSink } from "./sinks/emailSink.js";
export type { AlertView } from "./types.js";
export { toAlertView } from "./types.js";
