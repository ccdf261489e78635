import { cleanup, render } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach } from "vitest";
import { AlertStore } from "../../web/src/alerts/alertStore.js";
import { createClient, type FetchLike } from "../../web/src/api/client.js";
import { AppContext } from "../../web/src/context.js";
import { RouterProvider } from "../../web/src/router.js";

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

/** Renders a part of the signed-in app over a fake API, at a URL path. */
export function renderApp(ui: ReactNode, o: { fetch: FetchLike; path?: string }) {
  history.replaceState(null, "", o.path ?? "/");
  const client = createClient("tok", { fetch: o.fetch });
  const alerts = new AlertStore(client);
  const r = render(
    <RouterProvider>
      <AppContext.Provider value={{ client, alerts }}>{ui}</AppContext.Provider>
    </RouterProvider>,
  );
  return { ...r, client, alerts };
}
