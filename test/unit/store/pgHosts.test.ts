import { describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { parsePgHosts } from "../../../src/store/pgHosts.js";

describe("parsePgHosts (libpq multi-host URLs)", () => {
  it("splits the host list and drops target_session_attrs from the per-host URL", () => {
    const l = parsePgHosts("postgres://u:pw@h1:5432,h2:5433,[::1]/db?target_session_attrs=read-write&sslmode=disable");
    expect(l.hosts).toEqual([
      { host: "h1", port: 5432 },
      { host: "h2", port: 5433 },
      { host: "::1", port: 5432 },
    ]);
    expect(l.singleHostUrl(l.hosts[1]!)).toBe("postgres://u:pw@h2:5433/db?sslmode=disable");
    expect(l.singleHostUrl(l.hosts[2]!)).toBe("postgres://u:pw@[::1]:5432/db?sslmode=disable");
  });

  it("leaves a single-host URL to node-postgres", () => {
    const url = "postgresql://u@h1:5432/db";
    const l = parsePgHosts(url);
    expect(l.hosts).toEqual([]);
    expect(l.singleHostUrl({ host: "x", port: 1 })).toBe(url);
  });

  it("refuses session attributes that would send writes to a standby", () => {
    for (const url of [
      "postgres://h1,h2/db?target_session_attrs=read-only",
      "postgres://h1,h2/db?target_session_attrs=any",
      "postgres://h1/db?target_session_attrs=standby",
      "postgres://h1:99999,h2/db",
    ])
      expect(() => parsePgHosts(url), url).toThrow(expect.objectContaining({ code: StoreErrorCode.BadUrl }));
  });
});
