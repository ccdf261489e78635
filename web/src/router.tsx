import { createContext, type MouseEvent, type ReactNode, useCallback, useContext, useEffect, useState } from "react";

export type Route =
  | { page: "alerts" }
  | { page: "fleet" }
  | { page: "keys" }
  | { page: "key"; pubkey: string }
  | { page: "signer" }
  | { page: "notfound"; path: string };

/** Client routes; the server answers each of them with index.html (SPA fallback). */
export function parseRoute(path: string): Route {
  const p = path.replace(/\/+$/, "") || "/";
  if (p === "/" || p === "/alerts") return { page: "alerts" };
  if (p === "/fleet") return { page: "fleet" };
  if (p === "/keys") return { page: "keys" };
  if (p === "/signer") return { page: "signer" };
  const m = /^\/keys\/(0x[0-9a-fA-F]{64,132})$/.exec(p);
  if (m) return { page: "key", pubkey: m[1]!.toLowerCase() };
  return { page: "notfound", path };
}

interface Nav {
  path: string;
  search: string;
  navigate(to: string, opts?: { replace?: boolean }): void;
}

const NavContext = createContext<Nav>({ path: "/", search: "", navigate: () => {} });

export function RouterProvider({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState({ path: location.pathname, search: location.search });
  useEffect(() => {
    const onPop = () => setLoc({ path: location.pathname, search: location.search });
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  const navigate = useCallback((to: string, opts: { replace?: boolean } = {}) => {
    const u = new URL(to, location.origin);
    if (opts.replace) history.replaceState(null, "", u);
    else history.pushState(null, "", u);
    setLoc({ path: u.pathname, search: u.search });
    if (!opts.replace) scrollTo(0, 0);
  }, []);
  return <NavContext.Provider value={{ ...loc, navigate }}>{children}</NavContext.Provider>;
}

export function useNav(): Nav {
  return useContext(NavContext);
}

/** An in-app link: a real <a href> (open in new tab, copy link work), navigating without a reload. */
export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  "aria-label"?: string;
  "aria-current"?: "page";
}) {
  const { navigate } = useNav();
  const { to, children, ...rest } = props;
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
