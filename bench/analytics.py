"""`make bench-analytics`: the analytics API over a request log of BENCH_ROWS rows
(default 1,000,000; BENCH_DAYS days, default 90), on PostgreSQL and SQLite.

Each database is filled once and kept for the next run (SQLite:
bench/data/analytics.db; PostgreSQL: database `mr_bench_analytics` at
BENCH_PG_DSN), unless it lacks the rows or `--fresh` is given. The rows come
from `model-router demo-data` when the CLI has it (with a --rows option), else
from this script: 20 users, 15 models of the catalogue with their prices, 90
days up to now in time order, 5% errors, 30% streams, prompts of varied text
(about 2% mention an invoice: the search word), written with COPY on PostgreSQL and in large
transactions on SQLite, the secondary indexes dropped during the load and
rebuilt after (PostgreSQL is then VACUUM ANALYZEd, as autovacuum would; SQLite
is left without ANALYZE, as production leaves it).

Then the router serves each database as in production and every query below is
timed from the client: the median of 5 after 1 warm-up. Writes
bench/results/analytics.json and analytics.md, and updates bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BENCH,
    BenchError,
    Workdir,
    cleanup_on_exit,
    cli,
    log,
    machine,
    pg_create,
    pg_exists,
    pg_reachable,
    pg_url,
    publish,
    router_env,
    run_cli,
    start_router,
)

DATA = BENCH / "data"  # git-ignored (`data/`)
PG_DATABASE = "mr_bench_analytics"
SEARCH_WORD = "invoice"
N_USERS, N_MODELS, ERROR_RATE, STREAM_RATE = 20, 15, 0.05, 0.30
TARGET_PG_MS = 200
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
DAYS = int(os.environ.get("BENCH_DAYS", "90"))
BATCH = 50_000
REASONING = ("o3", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano", "deepseek-reasoner")

COLUMNS = (
    "id", "user_id", "model_id", "provider_id", "model", "provider", "prompt_text",
    "request_messages", "response_text", "reasoning_text", "tool_calls", "finish_reason",
    "input_tokens", "output_tokens", "total_tokens", "cached_input_tokens", "cache_write_tokens",
    "reasoning_tokens", "input_price_per_1m_tokens", "output_price_per_1m_tokens",
    "cached_input_price_per_1m_tokens", "cache_write_price_per_1m_tokens", "input_cost_usd",
    "output_cost_usd", "total_cost_usd", "cost_unknown", "latency_ms", "ttft_ms", "is_stream",
    "status", "error_message", "upstream_status", "http_status", "created_at", "completed_at",
)  # fmt: skip
MONEY = {i for i, c in enumerate(COLUMNS) if c.endswith(("_usd", "_per_1m_tokens"))}
UUIDS = {0, 1, 2, 3}
TIMES = {COLUMNS.index("created_at"), COLUMNS.index("completed_at")}
BOOLS = {COLUMNS.index("cost_unknown"), COLUMNS.index("is_stream")}
UNIT = 10**12  # Money is stored in 10^-12 USD

# --- prompts: varied, realistic text --------------------------------------------------

SYSTEMS = (
    "You are a helpful assistant.",
    "You are a senior support agent for an online store. Be brief and polite.",
    "You are a code reviewer. Point out bugs first, style last.",
    "Answer as a financial analyst would, with numbers where possible.",
    "You translate between English, German and French. Keep the tone.",
    "You are a SQL expert. Prefer portable SQL.",
    "",
    "",
)
ASKS = (
    "Summarise this {thing} in three bullet points for {who}:",
    "Can you explain why the {thing} below fails, and how to fix it?",
    "Write a short, friendly reply to this customer about their {thing}.",
    "Translate the following {thing} into German, keeping the formatting:",
    "Extract every date, amount and name from this {thing} as JSON.",
    "What are the risks in this {thing}? Be specific.",
    "Rewrite this {thing} so that a new hire understands it.",
    "Classify this {thing} as urgent, normal or low priority, with one reason.",
)
THINGS = (
    "email", "contract clause", "stack trace", "meeting transcript", "pull request",
    "product description", "support ticket", "quarterly report", "SQL query", "log excerpt",
    "release note", "purchase order", "shipping notice", "job posting", "privacy policy",
)  # fmt: skip
WHO = ("the board", "a customer", "the on-call engineer", "legal", "a new hire", "the sales team")
FILLER = (
    "the order was shipped on the 14th but the tracking number does not work",
    "we renewed the licence for 250 seats at the discounted rate",
    "TypeError: cannot read properties of undefined (reading 'map') at render",
    "payment of EUR 1,240.00 is overdue by 30 days according to our records",
    "the migration adds a nullable column and backfills it in batches of 10,000",
    "customers in the EU must be able to export and delete their data",
    "latency went from 120 ms to 900 ms after the deploy at 14:05 UTC",
    "please find attached the statement for March; the VAT number changed",
    "the vendor asks for a purchase order before they send the quote",
    "our churn rose 2% quarter on quarter, mostly in the starter plan",
    "SELECT customer_id, sum(amount) FROM orders GROUP BY 1 HAVING sum(amount) > 1000",
    "the warehouse in Lyon closes for inventory from the 2nd to the 4th",
    "candidates should know Python, SQL and at least one cloud provider",
    "retry with exponential backoff, capped at 30 seconds, on 429 and 503",
    "the board approved the budget, subject to a review in the autumn",
)
ANSWERS = (
    "Here is a summary: the main point is that the deadline moved and the budget is unchanged.",
    "The failure comes from calling map on undefined; initialise the list before rendering.",
    "Dear customer, thank you for your patience. Your order is on its way.",
    "Sehr geehrte Damen und Herren, vielen Dank für Ihre Nachricht.",
    '{"dates": ["2026-03-14"], "amounts": ["EUR 1,240.00"], "names": ["ACME GmbH"]}',
    "The main risk is the unbounded retry loop; cap it and add jitter.",
    "Urgent: the customer cannot pay, and the payment is already overdue.",
)
ERRORS = (
    (502, 502, "Upstream error from provider: 502 Bad Gateway"),
    (429, 429, "Rate limited by the provider; retry after 7 seconds"),
    (504, None, "The provider did not answer within 600 seconds"),
    (503, None, "Provider overloaded (529): Overloaded"),
    (400, 400, "Invalid value for 'messages.0.content': must not be empty"),
)


def prompt(rng: random.Random) -> tuple[str, list[dict[str, str]]]:
    draw = rng.random()  # SEARCH_WORD in about 2% of prompts, in either case
    thing = rng.choice(THINGS) if draw >= 0.02 else ("invoice" if draw < 0.01 else "Invoice")
    ask = rng.choice(ASKS).format(thing=thing, who=rng.choice(WHO))
    body = ". ".join(rng.sample(FILLER, rng.randint(1, 6)))
    user = f"{ask}\n\n{body}."
    if rng.random() < 0.2:
        user += "\n\n" + " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 12)))
    messages = []
    system = rng.choice(SYSTEMS)
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    text = "\n".join(f"{m['role']}: {m['content']}" for m in messages)
    return text, messages


# --- rows --------------------------------------------------------------------------------


def price_units(value: Any) -> int | None:
    return None if value is None else int(Decimal(str(value)) * UNIT)


def generate(
    rng: random.Random,
    n: int,
    users: list[uuid.UUID],
    models: list[dict[str, Any]],
    now: datetime,
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows in time order over the DAYS before `now`; money in 10^-12 USD."""
    start = now - timedelta(days=DAYS)
    span = (now - start).total_seconds()
    user_weights = [1 / (i + 1) ** 0.8 for i in range(len(users))]
    model_weights = [1 / (i + 1) ** 0.7 for i in range(len(models))]
    prompts = [prompt(rng) for _ in range(5000)]  # varied, and cheap to draw from
    batch: list[tuple[Any, ...]] = []
    for i in range(n):
        created = start + timedelta(seconds=span * (i + rng.random()) / n)
        user = rng.choices(users, user_weights)[0]
        m = rng.choices(models, model_weights)[0]
        text, messages = rng.choice(prompts)
        stream = rng.random() < STREAM_RATE
        latency = int(rng.lognormvariate(6.5, 0.6))
        ttft = int(latency * rng.uniform(0.1, 0.4)) if stream else None
        if rng.random() < ERROR_RATE:
            http_status, upstream, message = rng.choice(ERRORS)
            row = (
                uuid.uuid4(), user, m["id"], m["provider_id"], m["model"], m["provider"], text,
                json.dumps(messages), None, None, None, None, 0, 0, 0, 0, 0, 0,
                m["input"], m["output"], m["cached"], m["cache_write"], None, None, None,
                False, latency, None, stream, "error", message, upstream, http_status,
                created, created + timedelta(milliseconds=latency),
            )  # fmt: skip
        else:
            inp = len(text) // 4 + rng.randint(20, 3000)
            out = rng.randint(10, 1200)
            cached = (inp * rng.randint(20, 90)) // 100 if rng.random() < 0.3 and m["cached"] else 0
            reasoning = rng.randint(0, out) if m["model"] in REASONING else 0
            in_cost = ((inp - cached) * m["input"] + cached * (m["cached"] or 0)) // 10**6
            out_cost = out * m["output"] // 10**6
            row = (
                uuid.uuid4(), user, m["id"], m["provider_id"], m["model"], m["provider"], text,
                json.dumps(messages), rng.choice(ANSWERS), None, None, "stop",
                inp, out, inp + out, cached, 0, reasoning,
                m["input"], m["output"], m["cached"], m["cache_write"],
                in_cost, out_cost, in_cost + out_cost, False, latency, ttft, stream,
                "success", None, None, 200, created, created + timedelta(milliseconds=latency),
            )  # fmt: skip
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = list(row)
    for i in UUIDS:
        out[i] = out[i].hex if out[i] is not None else None
    for i in TIMES:
        out[i] = (
            out[i].astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    for i in BOOLS:
        out[i] = int(out[i])
    return tuple(out)


def pg_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = list(row)
    for i in MONEY:
        if out[i] is not None:
            out[i] = Decimal(out[i]).scaleb(-12)
    return tuple(out)


# --- filling a database ---------------------------------------------------------------


class Store:
    """The few statements the filler needs, on SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.sqlite:
            with sqlite3.connect(self.url.split("///", 1)[1], timeout=60) as conn:
                return [tuple(r) for r in conn.execute(sql.replace("$1", "?"), args).fetchall()]
        import asyncpg

        async def run() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(self.url)
            try:
                return [tuple(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return asyncio.run(run())

    def count(self) -> int:
        return int(self.query("SELECT count(*) FROM requests")[0][0])


def load_models(store: Store) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT m.id, m.model_id, p.id, p.name, m.input_price_per_1m_tokens, "
        "m.output_price_per_1m_tokens, m.cached_input_price_per_1m_tokens, "
        "m.cache_write_price_per_1m_tokens FROM models m JOIN providers p ON p.id = m.provider_id "
        "WHERE m.input_price_per_1m_tokens IS NOT NULL ORDER BY p.name, m.model_id"
    )
    if len(rows) < N_MODELS:
        raise BenchError(f"the catalogue has only {len(rows)} priced models; {N_MODELS} needed")
    rng = random.Random(7)
    chosen = rng.sample(rows, N_MODELS)

    def as_uuid(v: Any) -> uuid.UUID:
        return v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))

    def units(v: Any) -> int | None:
        if v is None:
            return None
        return int(v) if store.sqlite else price_units(v)  # SQLite already stores units

    return [
        {
            "id": as_uuid(r[0]), "model": r[1], "provider_id": as_uuid(r[2]), "provider": r[3],
            "input": units(r[4]), "output": units(r[5]), "cached": units(r[6]), "cache_write": units(r[7]),
        }
        for r in chosen
    ]  # fmt: skip


def make_users(n: int) -> list[dict[str, Any]]:
    users = []
    for i in range(n + 1):
        key = "mr-" + secrets.token_urlsafe(30)
        users.append(
            {
                "id": uuid.uuid4(),
                "name": "bench-analytics-admin" if i == n else f"bench-analytics-user-{i + 1:02d}",
                "key": key,
                "admin": i == n,
            }
        )
    return users


def fill(store: Store, rows: int, keys_path: Path) -> dict[str, Any]:
    """Replace the request log and the bench users with `rows` generated rows."""
    started = time.perf_counter()
    models = load_models(store)
    users = make_users(N_USERS)
    now = datetime.now(UTC)
    rng = random.Random(20261126)
    user_ids = [u["id"] for u in users if not u["admin"]]
    log(f"generating {rows:,} rows into {'SQLite' if store.sqlite else 'PostgreSQL'} ...")
    if store.sqlite:
        _fill_sqlite(store, users, generate(rng, rows, user_ids, models, now))
    else:
        asyncio.run(_fill_pg(store, users, generate(rng, rows, user_ids, models, now)))
    keys = {
        "admin": next(u["key"] for u in users if u["admin"]),
        "users": [{"id": str(u["id"]), "key": u["key"]} for u in users if not u["admin"]],
        "rows": rows,
        "generated_at": now.isoformat(),
        "search_word": SEARCH_WORD,
    }
    keys_path.write_text(json.dumps(keys, indent=1))
    keys_path.chmod(0o600)
    log(f"filled in {time.perf_counter() - started:.0f} s")
    return keys


def _user_rows(users: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC) - timedelta(days=DAYS + 1)
    return [
        (
            u["id"],
            u["name"],
            hashlib.sha256(u["key"].encode()).hexdigest(),
            u["key"][:10],
            u["admin"],
            True,
            now,
            None,
        )
        for u in users
    ]


def _fill_sqlite(
    store: Store, users: list[dict[str, Any]], batches: Iterator[list[tuple[Any, ...]]]
) -> None:
    conn = sqlite3.connect(store.url.split("///", 1)[1], timeout=60)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        indexes = [
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests' AND sql IS NOT NULL"
            )
        ]
        with conn:
            conn.execute("DELETE FROM requests")
            conn.execute("DELETE FROM users WHERE name LIKE 'bench-analytics-%'")
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            conn.executemany(
                "INSERT INTO users (id, name, key_hash, key_prefix, is_admin, is_active, created_at, revoked_at) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        r[0].hex,
                        r[1],
                        r[2],
                        r[3],
                        int(r[4]),
                        1,
                        r[6].replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
                        None,
                    )
                    for r in _user_rows(users)
                ],
            )
        insert = (
            f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        done = 0
        for batch in batches:
            with conn:
                conn.executemany(insert, [sqlite_row(r) for r in batch])
            done += len(batch)
            if done % 200_000 == 0:
                log(f"  {done:,} rows")
        log("  rebuilding indexes ...")
        with conn:
            for _, sql in indexes:
                conn.execute(sql)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _fill_pg(
    store: Store, users: list[dict[str, Any]], batches: Iterator[list[tuple[Any, ...]]]
) -> None:
    import asyncpg

    conn = await asyncpg.connect(store.url)
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'requests' AND indexname <> 'requests_pkey'"
        )
        await conn.execute("TRUNCATE requests")
        await conn.execute("DELETE FROM users WHERE name LIKE 'bench-analytics-%'")
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        await conn.copy_records_to_table(
            "users",
            records=_user_rows(users),
            columns=[
                "id",
                "name",
                "key_hash",
                "key_prefix",
                "is_admin",
                "is_active",
                "created_at",
                "revoked_at",
            ],
        )
        done = 0
        for batch in batches:
            await conn.copy_records_to_table(
                "requests", records=[pg_row(r) for r in batch], columns=list(COLUMNS)
            )
            done += len(batch)
            if done % 200_000 == 0:
                log(f"  {done:,} rows")
        log("  rebuilding indexes ...")
        await conn.execute("SET maintenance_work_mem = '512MB'")  # this session only
        for _, sql in indexes:
            await conn.execute(sql)
        await conn.execute("VACUUM ANALYZE requests")
    finally:
        await conn.close()


def fill_with_demo_data(store: Store, workdir: Path, env: dict[str, str], rows: int) -> bool:
    """Use `model-router demo-data` if the CLI has it and takes a row count
    (it adds rows: the request log is emptied first)."""
    try:
        help_text = cli(workdir, env, "demo-data", "--help")
    except BenchError:
        return False
    for option in ("--rows", "--requests", "--count"):
        if option in help_text:
            extra = []
            for name, value in (("--days", DAYS), ("--users", N_USERS)):
                if name in help_text:
                    extra += [name, str(value)]
            command = ["demo-data", option, str(rows), *extra]
            log(f"emptying the request log, then `model-router {' '.join(command)}` ...")
            store.query("DELETE FROM requests" if store.sqlite else "TRUNCATE requests")
            started = time.perf_counter()
            cli(workdir, env, *command, timeout=3600)
            if not store.sqlite:  # as autovacuum soon would after such a load
                store.query("VACUUM ANALYZE requests")
            log(f"filled in {time.perf_counter() - started:.0f} s")
            return True
    log("`model-router demo-data` exists but takes no row count; generating rows here")
    return False


# --- timing ---------------------------------------------------------------------------


def pick_search_word(store: Store) -> str:
    """For rows this script did not write: a word in about 2% of a sample of prompts."""
    import re
    from collections import Counter

    sample = [r[0] for r in store.query("SELECT prompt_text FROM requests LIMIT 5000")]
    seen: Counter[str] = Counter()
    for text in sample:
        seen.update({w.lower() for w in re.findall(r"[A-Za-z]{6,}", text)})
    if not seen or 0.005 <= seen[SEARCH_WORD] / len(sample) <= 0.05:
        return SEARCH_WORD  # the same word on every database, when it fits
    return min(seen, key=lambda word: abs(seen[word] / len(sample) - 0.02))


def queries(keys: dict[str, Any], store: Store) -> list[tuple[str, str, str]]:
    """(name, path and query, key) of each timed call."""
    top_model = store.query(
        "SELECT model FROM requests GROUP BY model ORDER BY count(*) DESC LIMIT 2"
    )[-1][0]
    week_ago = (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    admin, w = keys["admin"], keys.get("search_word") or pick_search_word(store)
    if keys["users"]:
        user, scope = keys["users"][0]["key"], ""
    else:  # rows from demo-data: no user's key is known; scope an admin call to the busiest user
        busiest = store.query(
            "SELECT user_id FROM requests GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
        )[0][0]
        user, scope = admin, f"&user_id={uuid.UUID(str(busiest))}"
    detail = store.query(
        "SELECT id FROM requests WHERE created_at < (SELECT max(created_at) FROM requests) "
        "ORDER BY created_at DESC LIMIT 1 OFFSET 5000"
    )[0][0]
    plan = [
        ("usage?days=7 (admin)", "/v1/analytics/usage?days=7", admin),
        ("usage?days=30 (admin)", "/v1/analytics/usage?days=30", admin),
        ("usage?days=30 (one user)", "/v1/analytics/usage?days=30", user),
        ("usage?days=365 (admin)", "/v1/analytics/usage?days=365", admin),
        ("usage?days=365 (one user)", "/v1/analytics/usage?days=365", user),
        ("costs?group_by=key", "/v1/analytics/costs?group_by=key", admin),
        ("costs?group_by=model", "/v1/analytics/costs?group_by=model", admin),
        ("costs?group_by=model (one user)", "/v1/analytics/costs?group_by=model", user),
        ("costs?group_by=tag:team", "/v1/analytics/costs?group_by=tag:team", admin),
        ("costs?group_by=tag:team (one user)", "/v1/analytics/costs?group_by=tag:team", user),
        ("requests/{id}", f"/v1/analytics/requests/{uuid.UUID(str(detail))}", admin),
        ("requests?status=error", "/v1/analytics/requests?status=error", admin),
        ("requests?sort=-total_cost_usd", "/v1/analytics/requests?sort=-total_cost_usd", admin),
        (
            "requests?sort=latency_ms (one user)",
            "/v1/analytics/requests?sort=latency_ms",
            user,
        ),
        (
            f"requests?start_date={week_ago}",
            f"/v1/analytics/requests?start_date={week_ago}",
            admin,
        ),
        ("requests?page=500", "/v1/analytics/requests?page=500", admin),
        ("requests?page=1", "/v1/analytics/requests?page=1", admin),
        ("requests?page=1 (one user)", "/v1/analytics/requests?page=1", user),
        (
            f"requests?model={top_model}&status=success",
            f"/v1/analytics/requests?model={top_model}&status=success",
            admin,
        ),
        ("requests?tag=team=search", "/v1/analytics/requests?tag=team=search", admin),
        ("requests?tag=team=search (one user)", "/v1/analytics/requests?tag=team=search", user),
        (
            "requests?tag=env=staging&status=error",
            "/v1/analytics/requests?tag=env=staging&status=error",
            admin,
        ),
        ("requests?front_door=messages", "/v1/analytics/requests?front_door=messages", admin),
        (f"requests?search={w}", f"/v1/analytics/requests?search={w}", admin),
        (
            f"requests?search={w}&start_date={week_ago}",
            f"/v1/analytics/requests?search={w}&start_date={week_ago}",
            admin,
        ),
        (
            f"requests?search={w}&status=error (one user)",
            f"/v1/analytics/requests?search={w}&status=error",
            user,
        ),
        ("requests?page=50", "/v1/analytics/requests?page=50", admin),
    ]
    return [(name, path + (scope if "(one user)" in name else ""), key) for name, path, key in plan]


def time_queries(base: str, plan: list[tuple[str, str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for name, path, key in plan:
            headers = {"authorization": f"Bearer {key}"}
            samples = []
            body: Any = None
            for i in range(REPEATS + 1):
                start = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise BenchError(f"GET {path}: {response.status_code} {response.text[:500]}")
                if i:
                    samples.append(elapsed)
                body = response.json()
            matches = body.get("total", body.get("total_requests"))
            out[name] = {
                "path": path,
                "median_ms": round(statistics.median(samples), 1),
                "min_ms": round(min(samples), 1),
                "max_ms": round(max(samples), 1),
                "matches": matches,
            }
            shown = "" if matches is None else f"  ({matches:,} matching rows)"
            log(f"  {name:55} {out[name]['median_ms']:>8.1f} ms  max {out[name]['max_ms']:.1f}{shown}")
    return out


def run_database(
    children: Any, workdir: Path, name: str, url: str, keys_path: Path, args: argparse.Namespace
) -> dict[str, Any]:
    log(f"--- {name} ---")
    env = router_env(url)
    cli(workdir, env, "bootstrap")
    store = Store(url)
    count = store.count()
    keys = json.loads(keys_path.read_text()) if keys_path.exists() else None
    rows = args.sqlite_rows if name == "SQLite" and args.sqlite_rows else args.rows
    fresh = args.fresh or keys is None or count < rows or keys.get("rows") != rows
    if fresh:
        if fill_with_demo_data(store, workdir, env, rows):
            admin = cli(
                workdir, env, "keys", "create", "--name", "bench-analytics-admin", "--admin"
            )
            keys = {"admin": admin.strip().splitlines()[-1], "users": [], "rows": rows, "demo_data": True,
                    "generated_at": datetime.now(UTC).isoformat()}  # fmt: skip
            keys_path.write_text(json.dumps(keys, indent=1))
            keys_path.chmod(0o600)
        else:
            keys = fill(store, rows, keys_path)
        count = store.count()
    else:
        log(f"reusing {count:,} rows (--fresh rebuilds them)")
    assert keys is not None
    router = start_router(children, workdir, env, args.workers, f"analytics-{name}")
    try:
        timings = time_queries(router.base, queries(keys, store))
    finally:
        children.stop(router.proc)
    return {
        "rows": count,
        "queries": timings,
        "generated_at": keys.get("generated_at"),
        "filled_by": "model-router demo-data" if keys.get("demo_data") else "bench/analytics.py",
        "one_user": "admin key + user_id (demo-data keys are unknown)"
        if keys.get("demo_data")
        else "that user's own key",
    }


def markdown(results: dict[str, Any]) -> str:
    dbs = list(results["databases"])
    lines = [
        "| query | " + " | ".join(f"{db} median / max (ms)" for db in dbs) + " | target | met? |",
        "|---|" + "---:|" * len(dbs) + "---|---|",
    ]
    names = list(next(iter(results["databases"].values()))["queries"])
    for q in names:
        cells = [f"`{q}`"]
        for db in dbs:
            t = results["databases"][db]["queries"].get(q)
            cells.append(f"{t['median_ms']:,.1f} / {t['max_ms']:,.1f}" if t else "—")
        pg = results["databases"].get("PostgreSQL", {}).get("queries", {}).get(q)
        met = "" if pg is None else ("met" if pg["max_ms"] <= TARGET_PG_MS else "**missed**")
        lines.append("| " + " | ".join([*cells, f"≤ {TARGET_PG_MS} ms on PostgreSQL", met]) + " |")
    m = results["machine"]
    rows = ", ".join(
        f"{db} {d['rows']:,} (written by {d['filled_by']})"
        for db, d in results["databases"].items()
    )
    first = next(iter(results["databases"].values()))
    lines += [
        "",
        f"Rows in the request log: {rows}; {N_USERS} users, {DAYS} days, about "
        f'{ERROR_RATE:.0%} errors. "one user": {first["one_user"]}. '
        f"Each query: the median and the slowest (p95 and above) of {REPEATS} calls after a warm-up, "
        f"timed by the client through the router (`serve --workers {results['workers']}`). "
        f"Run {results['generated_at']} at `{m['git_revision'][:12]}` on {m['nproc']} cores ({m['cpu']}).",
    ]
    if results.get("postgres_skipped"):
        lines.append(f"PostgreSQL skipped: {results['postgres_skipped']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=ROWS, help="default: BENCH_ROWS or 1,000,000")
    parser.add_argument(
        "--sqlite-rows",
        type=int,
        default=int(os.environ.get("BENCH_SQLITE_ROWS", "0")),
        help="SQLite's row count when not --rows (BENCH_SQLITE_ROWS)",
    )
    parser.add_argument("--fresh", action="store_true", help="regenerate the rows even if present")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sqlite-path", type=Path, default=DATA / "analytics.db")
    parser.add_argument("--pg-database", default=PG_DATABASE)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "workers": args.workers,
        "target_pg_ms": TARGET_PG_MS,
        "databases": {},
    }
    workdir = Workdir()
    try:
        with cleanup_on_exit() as children:
            why = "--no-postgres" if args.no_postgres else pg_reachable()
            if why is None:
                if not pg_exists(args.pg_database):
                    pg_create(args.pg_database)
                keys = DATA / f"analytics-keys-pg-{args.pg_database}.json"
                results["databases"]["PostgreSQL"] = run_database(
                    children, workdir.path, "PostgreSQL", pg_url(args.pg_database), keys, args
                )
            else:
                results["postgres_skipped"] = why
                log(f"PostgreSQL skipped: {why}")
            if not args.no_sqlite:
                url = f"sqlite:///{args.sqlite_path.resolve()}"
                keys = args.sqlite_path.with_name(args.sqlite_path.name + ".keys.json")
                results["databases"]["SQLite"] = run_database(
                    children, workdir.path, "SQLite", url, keys, args
                )
    finally:
        workdir.remove()
    if not results["databases"]:
        raise BenchError("no database to measure")
    table = markdown(results)
    publish("analytics", results, table, "analytics")
    print()
    print(table)
    return 0


if __name__ == "__main__":
    run_cli(main, "bench-analytics")
