// A tiny path router under /dashboard (the server answers index.html for every
// path below it, so deep links and reloads work).
import { useCallback, useEffect, useState } from "react";

export const BASE = "/dashboard";

export type Route =
  | { page: "overview" }
  | { page: "requests" }
  | { page: "request"; id: string }
  | { page: "models" }
  | { page: "keys" }
  | { page: "routing" };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "requests" && parts[1]) return { page: "request", id: parts[1] };
  if (parts[0] === "requests") return { page: "requests" };
  if (parts[0] === "models") return { page: "models" };
  if (parts[0] === "keys") return { page: "keys" };
  if (parts[0] === "routing") return { page: "routing" };
  return { page: "overview" };
}

export function pathOf(route: Route): string {
  switch (route.page) {
    case "overview":
      return `${BASE}/`;
    case "request":
      return `${BASE}/requests/${encodeURIComponent(route.id)}`;
    default:
      return `${BASE}/${route.page}`;
  }
}

export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = useCallback((next: Route) => {
    const path = pathOf(next);
    if (path !== window.location.pathname) window.history.pushState(null, "", path);
    setRoute(next);
    window.scrollTo?.(0, 0);
  }, []);
  return [route, navigate];
}
