import type { LeaseStore } from "../../failover/index.js";
import { EtcdLeaseStore, SqlLeaseStore } from "../../failover/index.js";
import type { Store } from "../../store/index.js";
import { openStore } from "../../store/index.js";
import { ConfigError, ConfigErrorCode } from "../config.js";

export interface OpenedLease {
  lease: LeaseStore;
  close(): Promise<void>;
}

/**
 * `etcd://host1:2379,host2:2379,host3:2379` (etcd v3, every member listed) or a store URL
 * (`postgres://…`, the shared store; `sqlite:PATH` for a single host).
 */
export async function openLeaseStore(
  url: string,
  opts: { name: string; reserveMs: number; callTimeoutMs: number; file: string },
): Promise<OpenedLease> {
  if (url.startsWith("etcd://")) {
    const endpoints = url
      .slice("etcd://".length)
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h.length > 0)
      .map((h) => `http://${h.replace(/\/+$/, "")}`);
    if (endpoints.length === 0) {
      throw new ConfigError(
        { code: ConfigErrorCode.Invalid, file: opts.file, path: "lease.store" },
        "etcd:// needs hosts",
      );
    }
    const lease = await EtcdLeaseStore.open({
      name: opts.name,
      endpoints,
      reserveMs: opts.reserveMs,
      callTimeoutMs: opts.callTimeoutMs,
    });
    return { lease, close: () => lease.close() };
  }
  // Short timeouts: a lease call that cannot finish well inside the TTL is a failed call.
  const store: Store = await openStore(url, {
    maxConnections: 4,
    lockTimeoutMs: opts.callTimeoutMs,
    statementTimeoutMs: opts.callTimeoutMs,
  });
  return {
    lease: new SqlLeaseStore({ name: opts.name, reserveMs: opts.reserveMs }, store),
    close: () => store.close(),
  };
}
