import { describe, expect, it } from "vitest";
import { StoreErrorCode, toStoreError } from "../../../src/store/errors.js";

/**
 * Found by the model-based suite (test/model/cometbft): a CHECK constraint refused on PostgreSQL came
 * back as ERR_STORE_UNAVAILABLE ("the database is down") while SQLite said ERR_STORE_CONSTRAINT.
 */
describe("toStoreError", () => {
  it("maps every PostgreSQL integrity-constraint violation (class 23) to ERR_STORE_CONSTRAINT", () => {
    for (const code of ["23505", "23514", "23503", "23502"]) {
      expect(toStoreError({ code, message: "violates", constraint: "c" }).code).toBe(StoreErrorCode.Conflict);
    }
  });

  it("maps SQLite constraint errors to ERR_STORE_CONSTRAINT and others to ERR_STORE_UNAVAILABLE", () => {
    expect(toStoreError({ code: "SQLITE_CONSTRAINT_CHECK", message: "x" }).code).toBe(StoreErrorCode.Conflict);
    expect(toStoreError({ code: "57P01", message: "terminating" }).code).toBe(StoreErrorCode.Unavailable);
  });
});
