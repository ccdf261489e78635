import type { Store } from "../store/index.js";
import { hostsRepository, type MaintenanceRow, maintenanceRepository } from "../store/index.js";
import { AppError, BadRequestError } from "../util/errors.js";

export enum FleetErrorCode {
  NotFound = "ERR_NOT_FOUND",
  Forbidden = "ERR_FORBIDDEN",
}

export class FleetError extends AppError<{ code: FleetErrorCode; what: string }> {}

export interface MaintenanceInput {
  startsAt: number;
  endsAt: number;
  reason: string;
}

/** Longest maintenance window: a forgotten window must not silence a host for ever. */
const MAX_MAINTENANCE_MS = 30 * 86_400_000;

/** Maintenance windows per host, scoped to the owner (admin: null owner sees all). */
export class MaintenanceService {
  constructor(private readonly store: Store) {}

  async create(
    ownerId: number | null,
    hostRef: string,
    m: MaintenanceInput,
    by: string,
    now: number,
  ): Promise<MaintenanceRow> {
    validate(m);
    return this.store.tx(async (tx) => {
      const host = await hostsRepository.findHost(tx, ownerId, hostRef);
      if (host === null) throw notFound("host");
      const id = await maintenanceRepository.insert(tx, {
        ownerId: host.ownerId,
        hostId: host.id,
        ...m,
        createdBy: by,
        createdAt: now,
      });
      return (await maintenanceRepository.get(tx, ownerId, id))!;
    });
  }

  async update(ownerId: number | null, id: number, m: MaintenanceInput): Promise<MaintenanceRow> {
    validate(m);
    return this.store.tx(async (tx) => {
      if ((await maintenanceRepository.get(tx, ownerId, id)) === null) throw notFound("maintenance window");
      await maintenanceRepository.update(tx, id, m);
      return (await maintenanceRepository.get(tx, ownerId, id))!;
    });
  }

  async delete(ownerId: number | null, id: number): Promise<void> {
    await this.store.tx(async (tx) => {
      if ((await maintenanceRepository.get(tx, ownerId, id)) === null) throw notFound("maintenance window");
      await maintenanceRepository.delete(tx, id);
    });
  }

  async get(ownerId: number | null, id: number): Promise<MaintenanceRow> {
    const row = await this.store.tx((tx) => maintenanceRepository.get(tx, ownerId, id), { readOnly: true });
    if (row === null) throw notFound("maintenance window");
    return row;
  }

  /** Windows that have not ended yet (includes current and future ones). */
  async list(ownerId: number | null, now: number, includePast = false): Promise<MaintenanceRow[]> {
    return this.store.tx((tx) => maintenanceRepository.list(tx, ownerId, includePast ? 0 : now), { readOnly: true });
  }
}

function validate(m: MaintenanceInput): void {
  if (!(m.endsAt > m.startsAt)) throw new BadRequestError("ends_at must be after starts_at", "ends_at");
  if (m.endsAt - m.startsAt > MAX_MAINTENANCE_MS)
    throw new BadRequestError("a maintenance window lasts at most 30 days", "ends_at");
  if (m.reason.length > 500) throw new BadRequestError("reason must be at most 500 characters", "reason");
}

export function notFound(what: string): FleetError {
  return new FleetError({ code: FleetErrorCode.NotFound, what }, `${what} not found`);
}
