import { createContext, useContext, useSyncExternalStore } from "react";
import type { AlertSnapshot, AlertStore } from "./alerts/alertStore.js";
import type { ApiClient } from "./api/client.js";

export interface AppServices {
  client: ApiClient;
  alerts: AlertStore;
}

export const AppContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(AppContext);
  if (s === null) throw new Error("useServices outside the signed-in app");
  return s;
}

export function useAlerts(): AlertSnapshot {
  const { alerts } = useServices();
  return useSyncExternalStore(alerts.subscribe, alerts.getSnapshot);
}
