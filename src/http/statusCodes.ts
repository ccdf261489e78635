import { ProtectionErrorCode } from "../chains/ethereum/index.js";
import { StoreErrorCode } from "../store/errors.js";

const PRECONDITION = new Set<string>(Object.values(ProtectionErrorCode));
const UNAVAILABLE = new Set<string>([
  StoreErrorCode.Unavailable,
  StoreErrorCode.LockTimeout,
  StoreErrorCode.Closed,
  StoreErrorCode.UnsafeSettings,
  StoreErrorCode.NotReplicated,
]);

/** HTTP status for a typed error code (one place for the whole API). */
export function httpStatusOf(code: string): number | undefined {
  if (PRECONDITION.has(code) || code.startsWith("ERR_DOPPELGANGER_")) return 412; // Web3Signer: protection refusal
  if (UNAVAILABLE.has(code)) return 503;
  if (code === "ERR_THRESHOLD_NOT_ENOUGH_PARTIALS") return 503; // threshold: too few peers signed in time
  if (code === "ERR_UNAUTHORIZED") return 401;
  if (code === "ERR_FORBIDDEN" || code === "ERR_HOST_NOT_ALLOWED") return 403;
  if (code === "ERR_NOT_FOUND" || code === "ERR_KEY_UNKNOWN") return 404;
  if (code === "ERR_BODY_TOO_LARGE") return 413;
  if (code === "ERR_RATE_LIMITED" || code === "ERR_FEED_LIMIT") return 429;
  if (code === "ERR_KEYMANAGER_BUSY" || code === "ERR_SHUTTING_DOWN") return 503;
  if (code === "ERR_KEYMANAGER_TOO_MANY_KEYSTORES") return 400;
  if (code === "ERR_ALERT_RESOLVED") return 409;
  if (
    code.startsWith("ERR_BAD_") ||
    code.startsWith("ERR_INTERCHANGE_") ||
    code.startsWith("ERR_JSON_") ||
    code.startsWith("ERR_KEYSTORE_") ||
    code === "ERR_SIGNING_ROOT_MISMATCH"
  ) {
    return 400;
  }
  return undefined;
}
