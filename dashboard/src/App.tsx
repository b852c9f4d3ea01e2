import { useEffect, useState, type ReactNode } from "react";
import { ApiError, api, type Me } from "./api";
import { Loading } from "./components/common";
import { RangePicker } from "./components/RangePicker";
import { UserPicker } from "./components/UserPicker";
import { Keys } from "./pages/Keys";
import { Models } from "./pages/Models";
import { Overview } from "./pages/Overview";
import { DEFAULT_FILTERS, Requests, type RequestFilters } from "./pages/Requests";
import { RequestView } from "./pages/RequestView";
import { Routing } from "./pages/Routing";
import { SignIn } from "./pages/SignIn";
import { presetRange, type Range } from "./range";
import { pathOf, useRoute, type Route } from "./route";

const STORAGE_KEY = "model-router.key";

interface Session {
  key: string;
  me: Me;
}

const TITLES: Record<Route["page"], string> = {
  overview: "Overview",
  requests: "Requests",
  request: "Request",
  models: "Models & prices",
  keys: "API keys",
  routing: "Learned routing",
};

function NavLink(props: { to: Route; current: Route; onGo: (route: Route) => void; children: ReactNode }) {
  const active = props.current.page === props.to.page || (props.to.page === "requests" && props.current.page === "request");
  return (
    <a
      href={pathOf(props.to)}
      className={active ? "nav-link active" : "nav-link"}
      aria-current={active ? "page" : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        props.onGo(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

export function App() {
  const [route, navigate] = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => Boolean(sessionStorage.getItem(STORAGE_KEY)));
  const [notice, setNotice] = useState<string | null>(null);
  const [range, setRange] = useState<Range>(() => presetRange("7"));
  const [userId, setUserId] = useState("");
  const [filters, setFilters] = useState<RequestFilters>(DEFAULT_FILTERS);

  useEffect(() => {
    const saved = sessionStorage.getItem(STORAGE_KEY);
    if (!saved) return;
    api<Me>(saved, "/v1/analytics/me").then(
      (me) => {
        setSession({ key: saved, me });
        setRestoring(false);
      },
      (error: unknown) => {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) sessionStorage.removeItem(STORAGE_KEY);
        setNotice(error instanceof ApiError ? error.message : String(error));
        setRestoring(false);
      },
    );
  }, []);

  useEffect(() => {
    document.title = `${TITLES[route.page]} · model-router`;
  }, [route.page]);

  if (restoring) return <Loading label="Signing in…" />;
  if (!session)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(key, me) => {
          sessionStorage.setItem(STORAGE_KEY, key);
          setNotice(null);
          setUserId("");
          setFilters(DEFAULT_FILTERS);
          setSession({ key, me });
        }}
      />
    );

  const signOut = () => {
    sessionStorage.removeItem(STORAGE_KEY);
    setSession(null);
    navigate({ page: "overview" });
  };
  const admin = session.me.is_admin;
  const showRange = route.page === "overview" || route.page === "requests";
  const page = (route.page === "keys" || route.page === "routing") && !admin ? "overview" : route.page;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            M
          </span>
          model-router
        </div>
        <nav aria-label="Main">
          <NavLink to={{ page: "overview" }} current={route} onGo={navigate}>
            Overview
          </NavLink>
          <NavLink to={{ page: "requests" }} current={route} onGo={navigate}>
            Requests
          </NavLink>
          <NavLink to={{ page: "models" }} current={route} onGo={navigate}>
            Models
          </NavLink>
          {admin && (
            <NavLink to={{ page: "keys" }} current={route} onGo={navigate}>
              Keys
            </NavLink>
          )}
          {admin && (
            <NavLink to={{ page: "routing" }} current={route} onGo={navigate}>
              Routing
            </NavLink>
          )}
        </nav>
        <div className="whoami">
          <span className="whoami-name" data-testid="whoami">
            {session.me.name}
          </span>
          <span className="muted small">
            {session.me.prefix}… · {admin ? "admin" : "key"}
          </span>
          <button type="button" className="button button-small" onClick={signOut} data-testid="signout">
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        <header className="page-header">
          <h1>{TITLES[page]}</h1>
          {showRange && (
            <div className="toolbar">
              {admin && (
                <UserPicker
                  apiKey={session.key}
                  value={userId}
                  onChange={(id) => {
                    setUserId(id);
                    setFilters((f) => ({ ...f, page: 1 }));
                  }}
                />
              )}
              <RangePicker
                range={range}
                onChange={(next) => {
                  setRange(next);
                  setFilters((f) => ({ ...f, page: 1 }));
                }}
              />
            </div>
          )}
        </header>
        {page === "overview" && <Overview apiKey={session.key} range={range} userId={userId} />}
        {page === "requests" && (
          <Requests
            apiKey={session.key}
            range={range}
            userId={userId}
            filters={filters}
            onFilters={setFilters}
            onOpen={(id) => navigate({ page: "request", id })}
          />
        )}
        {page === "request" && route.page === "request" && (
          <RequestView apiKey={session.key} id={route.id} onBack={() => navigate({ page: "requests" })} />
        )}
        {page === "models" && <Models apiKey={session.key} />}
        {page === "keys" && <Keys apiKey={session.key} myId={session.me.id} />}
        {page === "routing" && <Routing apiKey={session.key} />}
      </main>
    </div>
  );
}
