"""The main table of `make bench`: one row per metric with the direct
figure, the router's on each database, Portkey's, and issue 18's goal
(`TARGETS`). The rows go into the JSON; render.py turns them into markdown
with the front doors' table and the ratios to Portkey.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loads import CHUNKS

# Issue 18's goals on the project's 2-core machine.
TARGETS = {
    "added_p50_c1_ms": 0.4,
    "added_p99_c1_ms": 1.5,
    "rps_c64": 3000,
    "p99_c64_ms": 50,
    "cpu_ms_per_request": 0.5,
    "added_ttfb_ms": 0.5,
    "cpu_us_per_chunk": 20,
    "peak_rss_worker_mb": 100,
    "startup_s": 1.5,
    "door_within": 0.10,  # each new front door within 10% of chat's figures
    "analytics_pg_ms": 200,
}
PEER = "portkey"


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and abs(value) >= 1000):
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None or not b:
        return None
    return float(a) / float(b)


def times(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def peer_of(results: dict[str, Any]) -> dict[str, Any] | None:
    """Portkey's figures, or None when its pass did not run or was skipped."""
    peer = (results.get("peers") or {}).get(PEER)
    return None if not peer or peer.get("skipped") else peer


Get = Callable[[dict[str, Any]], Any]


class Table:
    """Rows of the main table: one metric each, direct / per database / Portkey."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results
        self.dbs = list(results["router"])
        self.peer = peer_of(results)
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        metric: str,
        direct: Any,
        get: Get,
        added: Callable[[Any, Any], Any] | None = None,
        target: str = "",
        check: Callable[[Any, Any], bool] | None = None,
        digits: int = 2,
        peer: Get | None = None,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "metric": metric, "direct": direct, "target": target, "digits": digits,
            "router": {}, "added": {}, "met": {}, "peer": None, "peer_added": None,
        }  # fmt: skip
        for db in self.dbs:
            value = _get(get, self.results["router"][db])
            row["router"][db] = value
            extra = None
            if added is not None and value is not None and direct is not None:
                extra = added(value, direct)
            row["added"][db] = extra
            if check is not None and value is not None:
                row["met"][db] = bool(check(value, extra))
        if self.peer is not None and peer is not None:
            row["peer"] = _get(peer, self.peer)
            if added is not None and row["peer"] is not None and direct is not None:
                row["peer_added"] = added(row["peer"], direct)
        self.rows.append(row)
        return row


def _get(get: Get, p: dict[str, Any]) -> Any:
    try:
        return get(p)
    except (KeyError, TypeError):
        return None


def minus(r: Any, d: Any) -> Any:
    return round(r - d, 3)


def phase(name: str, field: str) -> Get:
    return lambda p: p["phases"][name][field]


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The main table: one dict per metric with direct, per-database router,
    added, Portkey and met."""
    t = Table(results)
    T = TARGETS
    dp = results["direct"]["phases"]
    dv = lambda name, field: (dp.get(name) or {}).get(field)  # noqa: E731
    t.add(
        "OpenAI, c=1: requests/s",
        dv("openai c1", "rps"),
        phase("openai c1", "rps"),
        digits=0,
        peer=phase("openai c1", "rps"),
    )
    t.add(
        "OpenAI, c=1: latency p50 (ms)",
        dv("openai c1", "p50_ms"),
        phase("openai c1", "p50_ms"),
        minus,
        f"added ≤ {T['added_p50_c1_ms']} ms",
        lambda v, a: a <= T["added_p50_c1_ms"],
        3,
        phase("openai c1", "p50_ms"),
    )
    t.add(
        "OpenAI, c=1: latency p90 (ms)",
        dv("openai c1", "p90_ms"),
        phase("openai c1", "p90_ms"),
        minus,
        digits=3,
        peer=phase("openai c1", "p90_ms"),
    )
    t.add(
        "OpenAI, c=1: latency p99 (ms)",
        dv("openai c1", "p99_ms"),
        phase("openai c1", "p99_ms"),
        minus,
        f"added ≤ {T['added_p99_c1_ms']:g} ms",
        lambda v, a: a <= T["added_p99_c1_ms"],
        3,
        phase("openai c1", "p99_ms"),
    )
    t.add(
        "OpenAI, c=64: requests/s",
        dv("openai c64", "rps"),
        phase("openai c64", "rps"),
        target=f"≥ {T['rps_c64']:,}",
        check=lambda v, a: v >= T["rps_c64"],
        digits=0,
        peer=phase("openai c64", "rps"),
    )
    t.add(
        "OpenAI, c=64: errors (socket + non-2xx)",
        dv("openai c64", "error_count"),
        phase("openai c64", "error_count"),
        target="0",
        check=lambda v, a: v == 0,
        digits=0,
        peer=phase("openai c64", "error_count"),
    )
    for p, digits in (("p50", 2), ("p90", 2)):
        t.add(
            f"OpenAI, c=64: latency {p} (ms)",
            dv("openai c64", f"{p}_ms"),
            phase("openai c64", f"{p}_ms"),
            minus,
            digits=digits,
            peer=phase("openai c64", f"{p}_ms"),
        )
    t.add(
        "OpenAI, c=64: latency p99 (ms)",
        dv("openai c64", "p99_ms"),
        phase("openai c64", "p99_ms"),
        minus,
        f"≤ {T['p99_c64_ms']} ms",
        lambda v, a: v <= T["p99_c64_ms"],
        2,
        phase("openai c64", "p99_ms"),
    )
    t.add(
        "CPU per request, c=64 (ms)",
        dv("openai c64", "cpu_ms_per_request"),
        phase("openai c64", "cpu_ms_per_request"),
        target=f"router ≤ {T['cpu_ms_per_request']} ms",
        check=lambda v, a: v <= T["cpu_ms_per_request"],
        digits=3,
        peer=phase("openai c64", "cpu_ms_per_request"),
    )
    _stream_rows(t, results)
    _resource_rows(t, results)
    _protocol_rows(t, dp)
    return t.rows  # fmt: skip


def _stream_rows(t: Table, results: dict[str, Any]) -> None:
    T = TARGETS
    s = lambda field: lambda p: p["streams"]["openai"][field]  # noqa: E731
    first = next(iter(results["router"].values()), {})
    direct = (first.get("streams") or {}).get("openai") or {}
    row = t.add(
        "Stream (50 chunks), c=1: time to first byte, median (ms)",
        direct.get("direct_ttfb_ms"),
        s("router_ttfb_ms"),
        minus,
        f"added ≤ {T['added_ttfb_ms']:g} ms",
        None,
        3,
        s("portkey_ttfb_ms"),
    )
    for db in t.dbs:
        v = results["router"][db]["streams"]["openai"]["added_ttfb_ms"]
        row["added"][db], row["met"][db] = v, v <= T["added_ttfb_ms"]
    t.add(
        "Stream, c=1: whole stream, median (ms)",
        direct.get("direct_total_ms"),
        s("router_total_ms"),
        minus,
        digits=3,
        peer=s("portkey_total_ms"),
    )
    t.add(
        "Stream, c=1: added time per chunk (µs)",
        None,
        s("added_us_per_chunk"),
        digits=1,
        peer=s("added_us_per_chunk"),
    )
    dp = results["direct"]["phases"]
    t.add(
        "Stream, c=64: streams/s",
        dp["openai-stream c64"]["rps"],
        phase("openai-stream c64", "rps"),
        digits=0,
        peer=phase("openai-stream c64", "rps"),
    )
    t.add(
        "Stream, c=64: CPU per chunk (µs)",
        dp["openai-stream c64"]["cpu_us_per_chunk"],
        phase("openai-stream c64", "cpu_us_per_chunk"),
        target=f"router ≤ {T['cpu_us_per_chunk']} µs",
        check=lambda v, a: v <= T["cpu_us_per_chunk"],
        digits=1,
        peer=phase("openai-stream c64", "cpu_us_per_chunk"),
    )
    beyond = lambda p: round(  # noqa: E731
        (
            p["phases"]["openai-stream c64"]["cpu_ms_per_request"]
            - p["phases"]["openai c64"]["cpu_ms_per_request"]
        )
        * 1000
        / CHUNKS,
        1,
    )
    t.add(
        "Stream, c=64: CPU per chunk beyond a plain request (µs)",
        None,
        beyond,
        digits=1,
        peer=beyond,
    )
    t.add("CPU per stream, c=64 (ms)", dp["openai-stream c64"]["cpu_ms_per_request"],
          phase("openai-stream c64", "cpu_ms_per_request"), minus, digits=3,
          peer=phase("openai-stream c64", "cpu_ms_per_request"))  # fmt: skip


def _resource_rows(t: Table, results: dict[str, Any]) -> None:
    T = TARGETS
    direct = results["direct"]
    nginx_worker = max((r["peak_rss_mb"] for r in direct["peak_rss"]), default=None)
    t.add(
        "Peak RSS per worker (MB)",
        nginx_worker,
        lambda p: p["peak_rss_worker_mb"],
        target=f"≤ {T['peak_rss_worker_mb']} MB",
        check=lambda v, a: v <= T["peak_rss_worker_mb"],
        digits=1,
        peer=lambda p: p["peak_rss_tree_mb"],
    )
    t.add(
        "Peak RSS, all processes (MB)",
        round(sum(r["peak_rss_mb"] for r in direct["peak_rss"]), 1),
        lambda p: p["peak_rss_tree_mb"],
        digits=1,
        peer=lambda p: p["peak_rss_tree_mb"],
    )
    t.add(
        "Start-up to first healthy response, median of 3 (s)",
        direct["startup_s"],
        lambda p: p["startup_s"],
        target=f"≤ {T['startup_s']:g} s",
        check=lambda v, a: v <= T["startup_s"],
        digits=3,
        peer=lambda p: p["startup_s"],
    )
    t.add("Request-log rows written", None, lambda p: p["request_log"]["rows"], digits=0)
    row = t.add(
        "Requests served (sent by the clients)",
        None,
        lambda p: p["requests_sent"],
        target="= rows written",
        digits=0,
    )
    for db in t.dbs:
        p = results["router"][db]
        row["met"][db] = p["request_log"]["rows"] == p["requests_sent"]
    t.add(
        "  of which completed before the clients stopped",
        None,
        lambda p: p["requests_completed"],
        digits=0,
    )
    t.add("  rows with status error", None, lambda p: p["request_log"]["error_rows"], digits=0)


def _protocol_rows(t: Table, dp: dict[str, Any]) -> None:
    for protocol, title in (("anthropic", "Anthropic"), ("gemini", "Gemini")):
        if f"{protocol} c64" not in dp:
            continue
        k, ks = f"{protocol} c64", f"{protocol}-stream c64"
        t.add(f"{title}, c=64: requests/s", dp[k]["rps"], phase(k, "rps"), digits=0)
        t.add(
            f"{title}, c=64: latency p99 (ms)", dp[k]["p99_ms"], phase(k, "p99_ms"), minus, digits=2
        )
        t.add(
            f"{title}, c=64: CPU per request (ms)",
            dp[k]["cpu_ms_per_request"],
            phase(k, "cpu_ms_per_request"),
            minus,
            digits=3,
        )
        t.add(f"{title} stream, c=64: streams/s", dp[ks]["rps"], phase(ks, "rps"), digits=0)
        t.add(
            f"{title} stream, c=64: CPU per chunk (µs)",
            dp[ks]["cpu_us_per_chunk"],
            phase(ks, "cpu_us_per_chunk"),
            digits=1,
        )
        t.add(f"{title} stream, c=1: added time to first byte (ms)", None,
              lambda p, k=protocol: p["streams"][k]["added_ttfb_ms"], digits=3)  # fmt: skip
