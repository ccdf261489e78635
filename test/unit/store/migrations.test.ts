import { afterEach, describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { loadMigrations } from "../../../src/store/migrate.js";
import { openStore } from "../../../src/store/openStore.js";
import { ENGINES, freshStoreUrl, markPostgresSkipped } from "../../utils/stores.js";

describe.each(ENGINES)("migrations on %s", (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it("applies every migration once, records them, and reopening changes nothing", async () => {
    const { url, cleanup } = await freshStoreUrl(engine);
    cleanups.push(cleanup);
    const known = loadMigrations(engine);
    const a = await openStore(url);
    expect(a.schemaVersion).toBe(known[known.length - 1]!.version);
    await a.close();
    const b = await openStore(url);
    const rows = await b.tx((tx) => tx.all("SELECT version FROM schema_migrations ORDER BY version"));
    expect(rows.map((r) => Number(r.version))).toEqual(known.map((m) => m.version));
    await b.close();
  });

  it("both dialects have the same migration numbers", () => {
    expect(loadMigrations("sqlite").map((m) => m.version)).toEqual(loadMigrations("postgres").map((m) => m.version));
  });

  it("refuses a database with a newer schema than this binary knows, and writes nothing", async () => {
    const { url, cleanup } = await freshStoreUrl(engine);
    cleanups.push(cleanup);
    const s = await openStore(url);
    await s.tx((tx) =>
      tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'x')"),
    );
    await s.close();
    await expect(openStore(url)).rejects.toMatchObject({ code: StoreErrorCode.SchemaTooNew });
  });

  it("refuses an unsupported URL with a typed error", async () => {
    await expect(openStore("mysql://x/y")).rejects.toMatchObject({ code: StoreErrorCode.BadUrl });
    await expect(openStore("sqlite:")).rejects.toMatchObject({ code: StoreErrorCode.BadUrl });
  });
});

markPostgresSkipped("migrations");
