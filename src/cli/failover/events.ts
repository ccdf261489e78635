import type { FailoverEvent, FailoverEvents } from "../../failover/events.js";
import type { Logger } from "../../util/logger.js";

/**
 * Failover events go to the log for now. The alert sinks (src/alerts) plug in here: wrap this sink and
 * also raise an alert per event (failover, failback, self_stop and promotion_refused are worth paging).
 */
export function loggingFailoverEvents(logger: Logger): FailoverEvents {
  return {
    emit(e: FailoverEvent): void {
      const context: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e)) context[k] = typeof v === "bigint" ? v.toString() : v;
      if (e.kind === "self_stop" || e.kind === "promotion_refused") logger.warn("Failover event", context);
      else logger.info("Failover event", context);
    },
  };
}
