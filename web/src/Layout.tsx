import type { ReactNode } from "react";
import { AlertBanner } from "./alerts/AlertBanner.js";
import type { LiveState } from "./alerts/liveFeed.js";
import { useAlerts } from "./context.js";
import { Link, type Route } from "./router.js";

const NAV: { page: Route["page"]; to: string; label: string }[] = [
  { page: "alerts", to: "/alerts", label: "Alerts" },
  { page: "fleet", to: "/fleet", label: "Fleet" },
  { page: "keys", to: "/keys", label: "Keys" },
  { page: "signer", to: "/signer", label: "Signer" },
];

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  polling: "Polling every 5 s (live feed down)",
  stopped: "Stopped",
};

function LiveIndicator() {
  const { live, alerts } = useAlerts();
  const open = alerts.filter((a) => a.status === "open").length;
  return (
    <span className={`live live-${live}`} title={LIVE_TEXT[live]}>
      <span className="live-dot" aria-hidden="true" />
      <span className="live-text">{LIVE_TEXT[live]}</span>
      <span className="sr-only">, {open} open alerts</span>
    </span>
  );
}

/** Header with navigation and live state, the global alert banner, and the page. */
export function Layout({ route, onSignOut, children }: { route: Route; onSignOut: () => void; children: ReactNode }) {
  const current = route.page === "key" ? "keys" : route.page;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/alerts" className="brand" aria-label="slashguard: alerts">
          slashguard
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.page}>
                <Link to={n.to} {...(current === n.page ? { "aria-current": "page" as const } : {})}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="top-right">
          <LiveIndicator />
          <button type="button" className="btn btn-small btn-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <AlertBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
