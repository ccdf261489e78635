// The public face of grpc/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { RemoteKeystoreHandlers } from "./handlers.js";
export { createGrpcMetrics } from "./metrics.js";
export type { GrpcTlsOptions } from "./server.js";
export { DEFAULT_MAX_MESSAGE_BYTES, SubstrateGrpcServer } from "./server.js";
