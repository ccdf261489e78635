import type { FailoverEvent, FailoverEvents } from "../../failover/index.js";
import { jsonSafe } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";

/**
 * Failover events go to the log for now. The alert sinks (src/alerts) plug in here: wrap this sink and
 * also raise an alert per event (failover, failback, self_stop and promotion_refused are worth paging).
 */
export function loggingFailoverEvents(logger: Logger): FailoverEvents {
  return {
    emit(e: FailoverEvent): void {
      const context = jsonSafe(e);
      if (e.kind === "self_stop" || e.kind === "promotion_refused") logger.warn("Failover event", context);
      else logger.info("Failover event", context);
    },
  };
}
