// The public face of events/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, failoverEvent, validPrefix, validStreamName } from "./eventFormat.js";
export { MemoryEventQueue } from "./memoryQueue.js";
export { createEventMetrics } from "./metrics.js";
export { NatsBus } from "./natsBus.js";
export { type EventPublisher, OutboxPublisher } from "./outboxPublisher.js";
export { OutboxSink } from "./outboxSink.js";
export { PublisherThread } from "./publisherThread.js";
export { tailEvents } from "./tail.js";
