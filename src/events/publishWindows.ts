import type { ReadyEvent } from "./eventFormat.js";
import type { EventBus } from "./natsBus.js";

export interface WindowState {
  /** Ids the bus acknowledged (filled here; never sent again while they are in it). */
  acked: Set<string>;
  /** Most events awaiting acknowledgement at once. */
  window: number;
  stopped: () => boolean;
}

/**
 * Publishes events in order as windows of distinct subjects and waits for each window's acknowledgements:
 * two events of one subject (one key) are never in flight together, so a failure cannot reorder them.
 * Returns how many leading events were acknowledged and the first failure (later events of its window
 * that were acknowledged are in `acked`, and skipped when retried).
 */
export async function publishInWindows(
  bus: EventBus,
  events: readonly ReadyEvent[],
  s: WindowState,
): Promise<{ acked: number; error: unknown }> {
  let i = 0;
  while (i < events.length) {
    if (s.stopped()) return { acked: i, error: null };
    const subjects = new Set<string>();
    let j = i;
    while (j < events.length && j - i < s.window && !subjects.has(events[j]!.subject)) {
      subjects.add(events[j]!.subject);
      j++;
    }
    const part = events.slice(i, j);
    const res = await send(bus, part, s.acked);
    let failed = -1;
    res.forEach((r, k) => {
      if (r.status === "fulfilled") s.acked.add(part[k]!.msgId);
      else if (failed < 0) failed = k;
    });
    if (failed >= 0) return { acked: i + failed, error: (res[failed] as PromiseRejectedResult).reason };
    i = j;
  }
  return { acked: events.length, error: null };
}

/** One window: through publishBatch when the bus has it; events already acknowledged are not sent again. */
async function send(
  bus: EventBus,
  part: readonly ReadyEvent[],
  acked: ReadonlySet<string>,
): Promise<PromiseSettledResult<unknown>[]> {
  const todo = part.filter((e) => !acked.has(e.msgId));
  const sent =
    bus.publishBatch !== undefined && todo.length > 0
      ? await bus.publishBatch(todo).catch((e: unknown) => todo.map(() => ({ status: "rejected", reason: e }) as const))
      : await Promise.allSettled(todo.map((e) => bus.publish(e.subject, e.payload, e.msgId)));
  let k = 0;
  return part.map((e) => (acked.has(e.msgId) ? { status: "fulfilled", value: undefined } : sent[k++]!));
}
