import { useEffect, useMemo, useState } from "react";
import { AlertPanel } from "./alerts/AlertPanel.js";
import { AlertStore } from "./alerts/alertStore.js";
import { createClient, type FetchLike } from "./api/client.js";
import { StateMessage } from "./components/StateMessage.js";
import { AppContext } from "./context.js";
import { FleetView } from "./fleet/FleetView.js";
import { KeyTable } from "./keys/KeyTable.js";
import { KeyTimeline } from "./keys/KeyTimeline.js";
import { Layout } from "./Layout.js";
import { Link, parseRoute, RouterProvider, useNav } from "./router.js";
import { SignIn } from "./SignIn.js";
import { session } from "./session.js";
import { SignerView } from "./signer/SignerView.js";

const TITLES: Record<string, string> = {
  alerts: "Alerts",
  fleet: "Fleet",
  keys: "Keys",
  key: "Key timeline",
  signer: "Signer",
  notfound: "Not found",
};

function Pages() {
  const { path } = useNav();
  const route = parseRoute(path);
  useEffect(() => {
    document.title = `${TITLES[route.page] ?? ""} · slashguard`;
  }, [route.page]);
  switch (route.page) {
    case "alerts":
      return <AlertPanel />;
    case "fleet":
      return <FleetView />;
    case "keys":
      return <KeyTable />;
    case "key":
      return <KeyTimeline pubkey={route.pubkey} />;
    case "signer":
      return <SignerView />;
    default:
      return (
        <StateMessage kind="empty" title="There is no such page">
          <Link to="/alerts">Go to the alerts</Link>
        </StateMessage>
      );
  }
}

function SignedIn({
  token,
  onSignOut,
  fetchImpl,
}: {
  token: string;
  onSignOut: (why: string | null) => void;
  fetchImpl?: FetchLike;
}) {
  const services = useMemo(() => {
    const client = createClient(token, {
      ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
      onUnauthorized: () => onSignOut("Your token is no longer accepted (revoked?). Sign in again."),
    });
    return { client, alerts: new AlertStore(client) };
  }, [token, fetchImpl, onSignOut]);
  useEffect(() => {
    void services.alerts.start();
    return () => services.alerts.stop();
  }, [services]);
  const { path } = useNav();
  return (
    <AppContext.Provider value={services}>
      <Layout route={parseRoute(path)} onSignOut={() => onSignOut(null)}>
        <Pages />
      </Layout>
    </AppContext.Provider>
  );
}

export function App({ fetchImpl }: { fetchImpl?: FetchLike }) {
  const [token, setToken] = useState<string | null>(() => session.read());
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useMemo(
    () => (why: string | null) => {
      session.clear();
      setNotice(why);
      setToken(null);
    },
    [],
  );
  return (
    <RouterProvider>
      {token === null ? (
        <SignIn
          notice={notice}
          {...(fetchImpl === undefined ? {} : { fetchImpl })}
          onSignedIn={(t) => {
            session.save(t);
            setNotice(null);
            setToken(t);
          }}
        />
      ) : (
        <SignedIn token={token} onSignOut={signOut} {...(fetchImpl === undefined ? {} : { fetchImpl })} />
      )}
    </RouterProvider>
  );
}
