import type { Store } from "../store/index.js";
import {
  type HistoryRow,
  type HostRow,
  hostKeysRepository,
  hostsRepository,
  type KeyListFilter,
  type KeyObservationRow,
  type MaintenanceRow,
  maintenanceRepository,
  type SourceRow,
} from "../store/index.js";

export type { HistoryRow, KeyObservationRow, MaintenanceRow };

export interface HostView extends HostRow {
  silent: boolean;
  sources: SourceRow[];
  maintenance: MaintenanceRow | null;
}

/** Read side of the fleet: what the API lists. */
export class FleetQueries {
  constructor(
    private readonly store: Store,
    private readonly silentAfterIntervals: number,
  ) {}

  async hosts(ownerId: number | null, now: number, hostId: number | null = null): Promise<HostView[]> {
    return this.store.tx(
      async (tx) => {
        const hosts = await hostsRepository.listHosts(tx, ownerId, hostId);
        const sources = await hostsRepository.sourcesOf(
          tx,
          hosts.map((h) => h.id),
        );
        const windows = await maintenanceRepository.list(tx, ownerId, now);
        return hosts.map((h) => ({
          ...h,
          silent: now - h.lastReportAt > this.silentAfterIntervals * h.intervalMs,
          sources: sources.get(h.id) ?? [],
          maintenance: windows.find((w) => w.hostId === h.id && w.startsAt <= now) ?? null,
        }));
      },
      { readOnly: true },
    );
  }

  async keys(filter: KeyListFilter): Promise<KeyObservationRow[]> {
    return this.store.tx((tx) => hostKeysRepository.listKeys(tx, filter), { readOnly: true });
  }

  async history(ownerId: number | null, pubkey: string, from: number, to: number): Promise<HistoryRow[]> {
    return this.store.tx((tx) => hostKeysRepository.history(tx, ownerId, pubkey, from, to), { readOnly: true });
  }
}
