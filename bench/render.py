"""Renders the report of `make bench` for the terminal, results/latest.md and
bench/README.md: the main table (report.py), the front doors against chat
(`door_rows`), the router's ratios to Portkey (`peer_ratios`), and notes on
the run (machine, method, noise).
"""

from __future__ import annotations

from typing import Any

from loads import DOORS
from report import PEER, TARGETS, fmt, peer_of, ratio, times

# --- the front doors against chat ----------------------------------------------------


def door_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each door on the first database: c=1 and c=64 figures, their ratio to
    chat's (same upstream format where chat has the phase), Portkey's req/s."""
    db = next(iter(results["router"]), None)
    if db is None:
        return []
    phases = results["router"][db]["phases"]
    direct = results["direct"]["phases"]
    peer = peer_of(results)
    within = TARGETS["door_within"]
    rows = []
    for door in DOORS:
        c1, c64 = phases.get(f"{door.name} c1"), phases.get(f"{door.name} c64")
        if c1 is None or c64 is None:
            continue
        chat1, chat64 = phases[f"{door.name} chat c1"], phases[f"{door.name} chat c64"]
        base1, chat_base1 = direct[f"{door.direct} c1"], direct[f"{door.chat} c1"]
        added = c1["p50_ms"] - base1["p50_ms"]
        chat_added = chat1["p50_ms"] - chat_base1["p50_ms"]
        r = {
            "door": door.name, "title": door.title, "database": db,
            "p50_c1_ms": c1["p50_ms"], "added_p50_c1_ms": round(added, 3),
            "p99_c1_ms": c1["p99_ms"], "rps_c64": c64["rps"], "p99_c64_ms": c64["p99_ms"],
            "cpu_ms_per_request": c64["cpu_ms_per_request"],
            "errors": c1["error_count"] + c64["error_count"],
            "latency_vs_chat": ratio(added, chat_added),
            "rps_vs_chat": ratio(c64["rps"], chat64["rps"]),
            "cpu_vs_chat": ratio(c64["cpu_ms_per_request"], chat64["cpu_ms_per_request"]),
            "chat": {"path": chat64["path"], "model": chat64["model"],
                     "added_p50_c1_ms": round(chat_added, 3), "rps_c64": chat64["rps"],
                     "cpu_ms_per_request": chat64["cpu_ms_per_request"]},
        }  # fmt: skip
        r["met"] = (
            r["errors"] == 0
            and (r["latency_vs_chat"] or 0) <= 1 + within
            and (r["rps_vs_chat"] or 0) >= 1 - within
            and (r["cpu_vs_chat"] or 9) <= 1 + within
        )
        pk = (peer or {}).get("phases", {}).get(f"{door.name} c64")
        r["portkey_rps_c64"] = pk["rps"] if pk else None
        r["vs_portkey_rps"] = ratio(c64["rps"], pk["rps"]) if pk else None
        rows.append(r)
    return rows


def door_markdown(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "",
        f"Front doors ({rows[0]['database']}; each against chat to the same mock, measured "
        "just before it: added p50 at c=1, req/s and CPU per request at c=64; goal: within "
        f"{TARGETS['door_within']:.0%}; Portkey's phase just after it):",
        "",
        "| door | c=1 p50 (ms) | added | vs chat | c=1 p99 (ms) | c=64 req/s | vs chat "
        "| c=64 p99 (ms) | CPU/request (ms) | vs chat | Portkey c=64 req/s | router / Portkey "
        "| within 10%? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [
            r["title"], fmt(r["p50_c1_ms"], 3), fmt(r["added_p50_c1_ms"], 3),
            times(r["latency_vs_chat"]), fmt(r["p99_c1_ms"], 3), fmt(r["rps_c64"], 0),
            times(r["rps_vs_chat"]), fmt(r["p99_c64_ms"], 2), fmt(r["cpu_ms_per_request"], 3),
            times(r["cpu_vs_chat"]), fmt(r["portkey_rps_c64"], 0), times(r["vs_portkey_rps"]),
            "met" if r["met"] else "**missed**",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# --- against Portkey ----------------------------------------------------------------------


def peer_ratios(results: dict[str, Any]) -> dict[str, Any] | None:
    """The router's figures over Portkey's, on the first database."""
    peer = peer_of(results)
    db = next(iter(results["router"]), None)
    if peer is None or db is None:
        return None
    r, pk = results["router"][db], peer
    base = results["direct"]["phases"]["openai c1"]

    def g(p: dict[str, Any], name: str, field: str) -> Any:
        return ((p.get("phases") or {}).get(name) or {}).get(field)

    def added(p: dict[str, Any], field: str) -> Any:
        value = g(p, "openai c1", field)
        return None if value is None else value - base[field]

    def s(p: dict[str, Any], field: str) -> Any:
        return ((p.get("streams") or {}).get("openai") or {}).get(field)

    return {
        "database": db,
        "rps_c64": ratio(g(r, "openai c64", "rps"), g(pk, "openai c64", "rps")),
        "added_p50_c1": ratio(added(r, "p50_ms"), added(pk, "p50_ms")),
        "added_p99_c1": ratio(added(r, "p99_ms"), added(pk, "p99_ms")),
        "p99_c64": ratio(g(r, "openai c64", "p99_ms"), g(pk, "openai c64", "p99_ms")),
        "cpu_per_request": ratio(g(r, "openai c64", "cpu_ms_per_request"),
                                 g(pk, "openai c64", "cpu_ms_per_request")),
        "stream_rps_c64": ratio(g(r, "openai-stream c64", "rps"),
                                g(pk, "openai-stream c64", "rps")),
        "cpu_per_chunk": ratio(g(r, "openai-stream c64", "cpu_us_per_chunk"),
                               g(pk, "openai-stream c64", "cpu_us_per_chunk")),
        "added_ttfb": ratio(s(r, "added_ttfb_ms"), s(pk, "added_ttfb_ms")),
        "peak_rss": ratio(r.get("peak_rss_tree_mb"), pk.get("peak_rss_tree_mb")),
        "startup": ratio(r.get("startup_s"), pk.get("startup_s")),
    }  # fmt: skip


def peer_line(results: dict[str, Any]) -> str:
    peers = results.get("peers") or {}
    if PEER not in peers:
        return ""
    peer = peers[PEER]
    if peer.get("skipped"):
        first = peer["skipped"].splitlines()[0] if peer["skipped"] else "?"
        return f"Portkey's gateway: not measured ({first[:300]})."
    x = results.get("peer_ratios") or {}
    line = (
        f"router ({x.get('database')}) / Portkey {peer.get('version')}: "
        f"{times(x.get('rps_c64'))} req/s at c=64, {times(x.get('added_p50_c1'))} added latency "
        f"at c=1 (p50; p99 {times(x.get('added_p99_c1'))}), {times(x.get('p99_c64'))} p99 at c=64, "
        f"{times(x.get('cpu_per_request'))} CPU per request, {times(x.get('stream_rps_c64'))} "
        f"streams/s and {times(x.get('cpu_per_chunk'))} CPU per chunk at c=64, "
        f"{times(x.get('added_ttfb'))} added time to first byte, {times(x.get('peak_rss'))} peak "
        f"RSS (all processes), {times(x.get('startup'))} start-up."
    )
    if peer.get("unsupported"):
        line += (
            " Portkey did not answer right: "
            + "; ".join(f"{k} ({v.splitlines()[0][:120]})" for k, v in peer["unsupported"].items())
            + "."
        )
    return line


# --- markdown ----------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    dbs = list(results["router"])
    with_peer = peer_of(results) is not None
    head = ["metric", "direct"]
    for db in dbs:
        head += [f"router ({db})", "added"]
    if with_peer:
        head += ["Portkey", "added"]
    head += ["target", "met?"]
    numeric = 1 + 2 * len(dbs) + (2 if with_peer else 0)
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * numeric + ["---", "---"]) + "|",
    ]
    for row in results["summary"]:
        d = row["digits"]
        cells = [row["metric"], fmt(row["direct"], d)]
        for db in dbs:
            added = row["added"].get(db)
            cells += [fmt(row["router"].get(db), d), fmt(added, d) if added is not None else ""]
        if with_peer:
            added = row.get("peer_added")
            cells += [
                fmt(row.get("peer"), d) if row.get("peer") is not None else "",
                fmt(added, d) if added is not None else "",
            ]
        met = [
            ("met" if row["met"][db] else "**missed**") + (f" ({db})" if len(dbs) > 1 else "")
            for db in dbs
            if db in row["met"]
        ]
        cells += [row["target"], ", ".join(met)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += door_markdown(results.get("doors") or [])
    return "\n".join([*lines, "", *notes(results)]) + "\n"


def notes(results: dict[str, Any]) -> list[str]:
    m, cfg = results["machine"], results["config"]
    out = [
        f"Run {results['generated_at']} at `{m['git_revision'][:12]}`"
        + (" (with uncommitted changes in src/)" if m["git_src_dirty"] else "")
        + f"; {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, load average "
        f"{m.get('loadavg', '?')} before the run; Python {m['python']}, "
        f"{m['nginx'].replace('nginx version: ', '')}, {m['wrk'].split(' [')[0]}"
        + (f", Node {m['node']}" if m.get("node") else "")
        + ".",
        f"Router: `serve --workers {cfg['workers']}`, default settings (request log on), "
        f"LOG_LEVEL=warning. Load phases of {cfg['duration_s']:g} s (the front doors' "
        f"{cfg['door_duration_s']:g} s; wrk: c=1 one thread, c=64 two threads); streams: "
        f"{cfg['stream_samples']} sequential requests each way, medians. The load generator, the "
        "mock and the gateways share the machine's cores.",
        '"added" is the gateway minus direct. CPU is utime+stime of every process of the '
        "gateway (or nginx) over the phase, divided by the requests (by requests × 50 per chunk).",
    ]
    line = peer_line(results)
    if line:
        out.append(line)
    noise = [
        (p["other_cpu_pct"], f"{kind} {name}")
        for kind, phases in [("direct", results["direct"]["phases"])]
        + [(f"router ({db})", r["phases"]) for db, r in results["router"].items()]
        + [(name, p["phases"]) for name, p in (results.get("peers") or {}).items() if "phases" in p]
        for name, p in phases.items()
    ]
    if noise:
        worst, where = max(noise)
        mean = sum(n for n, _ in noise) / len(noise)
        out.append(
            f"Other processes on the machine used {mean:.0f}% of its CPU on average during the "
            f"load phases (at most {worst:.0f}%, in {where}): the more, the noisier the numbers."
        )
    profile = (results["router"].get("SQLite") or {}).get("profile")
    if profile:
        out.append(
            "Where a worker's CPU goes (py-spy, an extra c=64 OpenAI phase on SQLite, each sample "
            "counted to the layer of its innermost known frame): "
            + ", ".join(f"{layer} {share}%" for layer, share in profile["shares_pct"].items())
            + "."
        )
    skipped = results.get("postgres_skipped")
    if skipped:
        out.append(f"PostgreSQL pass skipped: {skipped}")
    return out
