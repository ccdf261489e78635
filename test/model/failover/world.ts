import { FailoverError, FailoverErrorCode } from "../../../src/failover/errors.js";
import {
  type AcquireRequest,
  EMPTY_LEASE,
  type LeaseGrant,
  type LeaseRecord,
  mayAcquire,
  type ReleaseOptions,
} from "../../../src/failover/lease/lease.js";
import { stateAfterHeight } from "../../../src/failover/node/stateFile.js";
import { Host } from "./host.js";
import { Sim } from "./sim.js";
import { TIMING } from "./timing.js";

/** Store record (the SQL store's semantics, in memory, on the store's own clock). */
interface Row {
  holder: string;
  epoch: bigint;
  expiresAt: number;
  acquiredAt: number;
  released: boolean;
  holderStopped: boolean;
  stopTimeoutMs: number;
  handoverTo: string | null;
}

export class World {
  readonly sim = new Sim();
  height = 0n;
  /** Heights each host's node signed with the validator key. */
  readonly signedBy = new Map<bigint, Set<string>>();
  readonly violations: string[] = [];
  storeOffset = 0;
  private row: Row | null = null;
  readonly hosts: Host[];

  constructor(n: number) {
    this.hosts = Array.from({ length: n }, (_, i) => new Host(this, `h${i}`, i === 0));
    const block = (): void => {
      this.height++;
      for (const h of this.hosts) {
        if (h.nodeRunning && h.loadedKey === "validator") {
          const s = this.signedBy.get(this.height) ?? new Set<string>();
          s.add(h.id);
          this.signedBy.set(this.height, s);
          if (s.size > 1)
            this.violations.push(`t=${this.sim.t}: height ${this.height} signed by ${[...s].join(" and ")}`);
          h.state.set(h.paths.state, stateAfterHeight(this.height));
        }
      }
      this.sim.after(TIMING.blockMs, block);
    };
    this.sim.after(TIMING.blockMs, block);
  }

  /** At no instant two nodes run with the validator key. */
  check(): void {
    const running = this.hosts.filter((h) => h.nodeRunning && h.loadedKey === "validator").map((h) => h.id);
    if (running.length > 1) this.violations.push(`t=${this.sim.t}: validator key running on ${running.join(" and ")}`);
  }

  storeNow(): number {
    return this.sim.t + this.storeOffset;
  }

  record(): LeaseRecord {
    const r = this.row;
    if (r === null) return EMPTY_LEASE;
    const now = this.storeNow();
    const live = !r.released && r.expiresAt > now;
    return {
      holder: r.holder,
      epoch: r.epoch,
      live,
      released: r.released,
      holderStopped: r.holderStopped,
      endedAgoMs: live ? null : now - r.expiresAt,
      remainingMs: live ? r.expiresAt - now : null,
      stopTimeoutMs: r.stopTimeoutMs,
      handoverTo: r.handoverTo,
      acquiredAgoMs: now - r.acquiredAt,
    };
  }

  acquire(req: AcquireRequest): { grant: LeaseGrant; previous: LeaseRecord } {
    const previous = this.record();
    if (!mayAcquire(previous, req.holder, 60_000)) {
      throw new FailoverError(
        { code: FailoverErrorCode.LeaseHeld, holder: previous.holder ?? "", epoch: previous.epoch },
        "held",
      );
    }
    const epoch = previous.epoch + 1n;
    const now = this.storeNow();
    this.row = {
      holder: req.holder,
      epoch,
      expiresAt: now + req.ttlMs,
      acquiredAt: now,
      released: false,
      holderStopped: false,
      stopTimeoutMs: req.stopTimeoutMs,
      handoverTo: null,
    };
    return { grant: { holder: req.holder, epoch, ttlMs: req.ttlMs }, previous };
  }

  renew(g: LeaseGrant): { ttlMs: number; handoverTo: string | null } {
    const r = this.row;
    if (r === null || r.epoch !== g.epoch || r.released || r.expiresAt <= this.storeNow()) {
      throw new FailoverError({ code: FailoverErrorCode.LeaseLost, epoch: g.epoch, holder: r?.holder ?? null }, "lost");
    }
    r.expiresAt = this.storeNow() + g.ttlMs;
    return { ttlMs: g.ttlMs, handoverTo: r.handoverTo };
  }

  release(g: LeaseGrant, o: ReleaseOptions): void {
    const r = this.row;
    if (r === null || r.epoch !== g.epoch || r.released) return;
    r.released = true;
    r.holderStopped = o.holderStopped;
    r.handoverTo = o.handoverTo;
    r.expiresAt = Math.min(r.expiresAt, this.storeNow());
  }

  requestHandover(to: string): void {
    if (this.row !== null && this.record().live) this.row.handoverTo = to;
  }

  host(id: string): Host | undefined {
    return this.hosts.find((h) => h.id === id);
  }
}
