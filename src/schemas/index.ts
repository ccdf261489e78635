// Wire types of the HTTP API (JSON Schema via TypeBox): the routes validate with them, web/ imports the types.
export * from "./alerts.js";
export * from "./common.js";
export * from "./eth2.js";
export * from "./failover.js";
export * from "./fleet.js";
export * from "./timeline.js";
