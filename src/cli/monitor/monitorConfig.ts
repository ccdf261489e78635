import { sinksSchema } from "../../alerts/index.js";
import { monitorSectionSchema } from "../../monitor/index.js";
import { validateSection } from "../config.js";

export function readMonitorConfig(config: Record<string, unknown>, file: string) {
  const monitor = validateSection(monitorSectionSchema, config.monitor, file, "monitor");
  const sinks = validateSection(sinksSchema, config.sinks ?? [], file, "sinks");
  // A condition must be seen absent by at least two sweeps before its alert resolves.
  monitor.resolve_after = Math.max(monitor.resolve_after, 2 * monitor.sweep_interval);
  return { monitor, sinks };
}
