import { useAlerts } from "../context.js";
import { shortKey } from "../format.js";
import { Link } from "../router.js";
import { kindLabel, openCritical } from "./kinds.js";

/** On every page while any critical alert is open: how many, the worst, and the way to the panel. */
export function AlertBanner() {
  const { alerts } = useAlerts();
  const critical = openCritical(alerts);
  const worst = critical[0];
  if (worst === undefined) return null;
  const n = critical.length;
  return (
    <div className="banner" role="alert" data-testid="alert-banner">
      <span className="banner-icon" aria-hidden="true">
        !
      </span>
      <p className="banner-text">
        <strong>
          {n} critical alert{n === 1 ? "" : "s"} open.
        </strong>{" "}
        Worst: <strong>{kindLabel(worst.kind)}</strong>
        {worst.pubkey !== null && (
          <>
            {" "}
            — {worst.chain} key <code>{shortKey(worst.pubkey)}</code>
          </>
        )}
        {worst.hosts.length > 0 && <> on {worst.hosts.join(", ")}</>}.
      </p>
      <Link to="/alerts" className="btn btn-on-danger">
        Open the alert panel
      </Link>
    </div>
  );
}
