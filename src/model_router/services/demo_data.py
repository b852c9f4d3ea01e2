"""Demo traffic for the request log: `model-router demo-data`.

Fills `requests` with rows that look like real use of the router, for demos,
dashboards and load tests of the analytics queries:

- spread over the last `days` days with a daily and weekly rhythm (more on
  working hours and weekdays, a slow growth over the window), in time order;
- across `users` demo keys (users `demo-1` ... `demo-N`, with real hashed keys
  nobody knows; reused when they exist), some much busier than others, each
  with a favourite model;
- across the active models of the catalogue (synced first if it is empty),
  popular ones (gpt-4o-mini, ...) weighted higher;
- about 5% errors with realistic messages and statuses (429, 5xx, timeouts),
  about 30% streams; log-normal token counts, cache reads for models with a
  cached price, reasoning tokens for reasoning models;
- costs from the project's own `cost()` at each row's price and timestamp
  (peak hours included), stored with the rates charged, exact Decimals;
  models without a price get null costs and `cost_unknown`.

Everything but the row ids (UUIDv7 from the timestamp and fresh random bits,
so that runs never collide) is a function of the seed, the row count, the
window and the catalogue. Texts are short snippets built from a vocabulary of
a few hundred words, much shorter than the token counts suggest: they keep the
database (and its trigram index) small and fast to fill.

Writing: PostgreSQL gets binary COPY (asyncpg `copy_records_to_table`) in one
transaction; SQLite gets large `executemany` batches, committed every
`SQLITE_COMMIT_ROWS` rows. Rows are generated in chunks in a worker thread
while the previous chunk is being written. Values are converted with the
columns' own bind processors, so Money and UTCDateTime are stored exactly as
the ORM would store them.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Dialect, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from model_router.costs.pricing import Price, Rates, cost
from model_router.db.models import Model, Provider, Request, User
from model_router.domain import Usage
from model_router.errors import InvalidRequest
from model_router.services.catalogue import price_of
from model_router.services.catalogue_admin import sync_catalogue
from model_router.services.keys import DISPLAY_CHARS, hash_key, new_key

MAX_ROWS = 50_000_000
MAX_DAYS = 3650
MAX_USERS = 1000
DEFAULT_USERS = 20
DEFAULT_SEED = 42
CHUNK_ROWS = 50_000
SQLITE_COMMIT_ROWS = 500_000
DEMO_USER_PREFIX = "demo-"

ERROR_RATE = 0.05
STREAM_RATE = 0.30
FAVOURITE_RATE = 0.35  # share of a user's requests that go to their favourite model

# The order of the values in a generated row.
COLUMNS: tuple[str, ...] = (
    "id",
    "user_id",
    "model_id",
    "provider_id",
    "model",
    "provider",
    "prompt_text",
    "request_messages",
    "response_text",
    "reasoning_text",
    "tool_calls",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "input_price_per_1m_tokens",
    "output_price_per_1m_tokens",
    "cached_input_price_per_1m_tokens",
    "cache_write_price_per_1m_tokens",
    "input_cost_usd",
    "output_cost_usd",
    "total_cost_usd",
    "cost_unknown",
    "latency_ms",
    "ttft_ms",
    "is_stream",
    "status",
    "error_message",
    "upstream_status",
    "http_status",
    "created_at",
    "completed_at",
)

Row = tuple[Any, ...]
Progress = Callable[[int, int, float], None]  # rows written, rows wanted, seconds
Note = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoReport:
    rows: int
    seconds: float
    backend: str
    start: datetime
    end: datetime
    users_created: int
    users_reused: int
    models: int
    catalogue_synced: bool
    errors: int
    rebuilt_indexes: tuple[str, ...] = ()

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)


async def generate_demo_data(
    sessions: async_sessionmaker[AsyncSession],
    *,
    rows: int,
    days: int,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    end: datetime | None = None,
    progress: Progress | None = None,
    note: Note | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> DemoReport:
    """Add `rows` demo requests made in the `days` days before `end` (default: now)."""
    _check_range("rows", rows, 1, MAX_ROWS)
    _check_range("days", days, 1, MAX_DAYS)
    _check_range("users", users, 1, MAX_USERS)
    _check_range("chunk_rows", chunk_rows, 1, 1_000_000)
    started = time.perf_counter()
    say = note or (lambda _message: None)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(days=days)

    synced = False
    plans = await _load_models(sessions)
    if plans is None:
        say("the catalogue is empty: syncing it first")
        await sync_catalogue(sessions)
        synced = True
        plans = await _load_models(sessions)
    if not plans:
        raise InvalidRequest("No active model in the catalogue: `model-router models sync`.")
    user_ids, created = await _demo_users(sessions, users)

    async with sessions() as session:
        conn = await session.connection()
        traffic = Traffic(
            plans,
            user_ids,
            start=start,
            end=end,
            rows=rows,
            seed=seed,
            encoders=Encoders.for_dialect(conn.dialect),
        )
        writer = _write_postgres if conn.dialect.name == "postgresql" else _write_sqlite
        rebuilt = await writer(session, conn, traffic, chunk_rows, _progress(progress, started), say)
        await session.commit()
    return DemoReport(
        rows=traffic.produced,
        seconds=time.perf_counter() - started,
        backend=conn.dialect.name,
        start=start,
        end=end,
        users_created=created,
        users_reused=users - created,
        models=len(plans),
        catalogue_synced=synced,
        errors=traffic.errors,
        rebuilt_indexes=rebuilt,
    )


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low:,} and {high:,}; got {value:,}.")


def _progress(progress: Progress | None, started: float) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, time.perf_counter() - started)

    return report


# --- the catalogue and the demo users -------------------------------------------------

# Relative popularity of well-known models; any other model weighs 1.
POPULARITY: dict[str, float] = {
    "gpt-4o-mini": 30,
    "gpt-4.1-mini": 14,
    "gpt-4o": 12,
    "claude-sonnet-4-5": 10,
    "gemini-2.5-flash": 9,
    "gpt-5-mini": 8,
    "deepseek-chat": 7,
    "claude-haiku-4-5": 6,
    "gpt-4.1-nano": 5,
    "gemini-2.5-flash-lite": 5,
    "gpt-4.1": 5,
    "o4-mini": 4,
    "gpt-5": 4,
    "claude-sonnet-4-6": 4,
    "gemini-2.5-pro": 3,
    "deepseek-reasoner": 3,
    "o3": 2,
    "gpt-5-nano": 2,
    "deepseek-flash": 2,
    "claude-opus-4-5": 1.5,
    "deepseek-v4-pro": 1.5,
    "claude-opus-4-6": 1,
}

# Time to first token (median, ms) and output speed (tokens/s) by provider.
SPEED: dict[str, tuple[float, float]] = {
    "openai": (380.0, 85.0),
    "anthropic": (650.0, 70.0),
    "gemini": (480.0, 140.0),
    "deepseek": (900.0, 45.0),
}
DEFAULT_SPEED = (700.0, 60.0)
FAST_HINTS = ("mini", "nano", "flash", "haiku", "lite")
SLOW_HINTS = ("opus", "pro", "o3")

NO_REASONING, HIDDEN_REASONING, VISIBLE_REASONING = 0, 1, 2


def reasoning_kind(model: str) -> int:
    """Which models think: OpenAI's o-series and GPT-5 (hidden), DeepSeek's reasoner."""
    if model == "deepseek-reasoner":
        return VISIBLE_REASONING
    if model.startswith(("o1", "o3", "o4", "gpt-5")):
        return HIDDEN_REASONING
    return NO_REASONING


@dataclass(slots=True)
class ModelPlan:
    """One catalogue model, and how its demo traffic looks."""

    id: uuid.UUID
    name: str
    provider: str
    provider_id: uuid.UUID
    price: Price | None
    weight: float
    reasoning: int
    ttft_ms: float
    tokens_per_second: float

    @classmethod
    def of(cls, row: Model, provider: Provider) -> ModelPlan:
        ttft, tps = SPEED.get(provider.name, DEFAULT_SPEED)
        name = row.model_id
        if any(hint in name for hint in FAST_HINTS):
            ttft, tps = ttft * 0.7, tps * 1.6
        elif any(hint in name for hint in SLOW_HINTS):
            ttft, tps = ttft * 1.4, tps * 0.65
        return cls(
            id=row.id,
            name=name,
            provider=provider.name,
            provider_id=provider.id,
            price=price_of(row),
            weight=POPULARITY.get(name, 1.0),
            reasoning=reasoning_kind(name),
            ttft_ms=ttft,
            tokens_per_second=tps,
        )


async def _load_models(sessions: async_sessionmaker[AsyncSession]) -> list[ModelPlan] | None:
    """The active models, in a stable order; None when the catalogue is empty."""
    async with sessions() as session:
        found = list(
            await session.execute(
                select(Model, Provider)
                .join(Provider, Model.provider_id == Provider.id)
                .order_by(Provider.name, Model.model_id)
            )
        )
    if not found:
        return None
    return [
        ModelPlan.of(model, provider)
        for model, provider in found
        if model.is_active and provider.is_active
    ]


def demo_user_names(count: int) -> list[str]:
    return [f"{DEMO_USER_PREFIX}{i}" for i in range(1, count + 1)]


async def _demo_users(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> tuple[list[uuid.UUID], int]:
    """The ids of users demo-1..demo-N, creating the missing ones; and how many were made."""
    names = demo_user_names(count)
    async with sessions.begin() as session:
        existing: dict[str, uuid.UUID] = {}
        for user in await session.scalars(
            select(User).where(User.name.in_(names)).order_by(User.created_at, User.id)
        ):
            existing.setdefault(user.name, user.id)
        missing = [name for name in names if name not in existing]
        for name in missing:
            key = new_key()  # never shown: nobody can call the router as a demo user
            user = User(name=name, key_hash=hash_key(key), key_prefix=key[:DISPLAY_CHARS])
            session.add(user)
            await session.flush()
            existing[name] = user.id
    return [existing[name] for name in names], len(missing)


# --- encoding values as the columns' types do -----------------------------------------


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Encoders:
    """The bind processors of the column types, for one dialect (identity where none)."""

    money: Callable[[Any], Any]
    when: Callable[[Any], Any]
    ident: Callable[[Any], Any]

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> Encoders:
        columns = Request.__table__.c

        def processor(name: str) -> Callable[[Any], Any]:
            found = columns[name].type.dialect_impl(dialect).bind_processor(dialect)
            return found if found is not None else _identity

        return cls(processor("total_cost_usd"), processor("created_at"), processor("id"))


# --- texts ---------------------------------------------------------------------------

NOUNS = (
    "invoice budget forecast customer ticket refund shipment warehouse order contract "
    "clause policy report incident firewall password dashboard revenue churn cohort "
    "retention experiment hypothesis paper abstract citation protein enzyme climate "
    "battery charger vehicle league transfer album guitar poem story castle startup "
    "investor valuation wallet audit mortgage inflation salary interview resume "
    "database query index migration schema endpoint cache queue cluster container "
    "pipeline deployment rollback release changelog roadmap backlog sprint meeting "
    "agenda minutes newsletter campaign audience funnel pricing discount coupon "
    "subscription onboarding handbook payroll vendor supplier inventory forecast "
    "recipe sauce garden kitchen bicycle marathon podcast episode trailer festival "
    "museum itinerary hotel flight visa passport insurance claim warranty lease "
    "spreadsheet formula chart metric anomaly outage latency throughput token "
    "prompt model embedding dataset label classifier regression gradient tensor"
).split()
ADJECTIVES = (
    "quarterly urgent friendly formal casual detailed brief technical simple legal "
    "overdue annual monthly weekly secure scalable legacy modern cheap premium remote "
    "hybrid seasonal vegan spicy rainy historic coastal medieval quantum organic "
    "cautious optimistic persuasive neutral playful"
).split()
VERBS = (
    "summarise explain translate draft review rewrite classify extract compare list "
    "outline estimate debug optimise refactor document test plan schedule forecast"
).split()
LANGUAGES = "French German Spanish Italian Portuguese Japanese Dutch Polish Korean".split()
CITIES = (
    "Lisbon Kyoto Berlin Lagos Lima Oslo Hanoi Austin Cairo Dublin Seoul Quito Porto "
    "Krakow Nairobi Montreal Bologna Tbilisi Bergen Valencia"
).split()
FOODS = (
    "garlic lemon chickpeas salmon tofu mushrooms spinach rice lentils pasta tomatoes "
    "basil ginger coconut paprika eggs"
).split()
AUDIENCES = "child beginner manager lawyer nurse engineer student investor".split()
FIELDS = "dates amounts names addresses emails totals deadlines".split()
CODE_LANGUAGES = "Python TypeScript Go Rust SQL Java Kotlin Bash".split()
FUNCTIONS = "parse_invoice retry_with_backoff merge_ranges slugify rate_limit to_cents".split()
SENTIMENTS = (
    "the delivery was late again",
    "absolutely loved the new update",
    "support never answered my email",
    "works fine but the price went up",
    "best purchase I made this year",
    "the app crashes when I log in",
)

SYSTEM_PROMPTS = (
    "You are a helpful assistant.",
    "Be concise.",
    "Answer in plain English.",
    "You are a senior code reviewer.",
    "Reply with JSON only.",
    "You are a support agent for Acme.",
    "Think step by step.",
    "You write marketing copy.",
    "You are a SQL expert.",
    "Summarise faithfully.",
    "You are a travel planner.",
    "Cite your sources.",
)

# (template, slot kinds): a slot kind names one of the word lists below.
TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Summarise the {} {} report", ("adj", "noun")),
    ("Translate to {}: {}", ("lang", "sentiment")),
    ("Write a {} email about the {} {}", ("adj", "noun", "noun")),
    ("Explain {} {} to a {}", ("adj", "noun", "audience")),
    ("Fix this {} bug in {}()", ("code", "func")),
    ("Compare {} and {}", ("noun", "noun")),
    ("Give me {} ideas for a {} {}", ("n", "adj", "noun")),
    ("Classify the sentiment: {}", ("sentiment",)),
    ("Extract the {} from this {}", ("field", "noun")),
    ("Write a SQL query for {} by {}", ("noun", "noun")),
    ("Plan a {}-day trip to {}", ("n", "city")),
    ("Draft a reply to ticket #{} about a {}", ("ticket", "noun")),
    ("Why is my {} {} so slow?", ("noun", "noun")),
    ("Rewrite in a {} tone: {}", ("adj", "sentiment")),
    ("Write unit tests for {}()", ("func",)),
    ("List the risks of a {} {}", ("adj", "noun")),
    ("Suggest a recipe with {} and {}", ("food", "food")),
    ("{} this {} {}", ("verb", "adj", "noun")),
    ("Outline {} slides on {} {}", ("n", "noun", "noun")),
    ("Write a haiku about a {} {}", ("adj", "noun")),
    ("What is a good {} for {}?", ("noun", "city")),
    ("Estimate the {} of a {} {}", ("noun", "adj", "noun")),
)

SENTENCES = (
    ("The {} {} looks {} this quarter.", ("adj", "noun", "adj")),
    ("Start with the {} and check the {}.", ("noun", "noun")),
    ("Here is a {} summary of the {}.", ("adj", "noun")),
    ("I would {} the {} first.", ("verb", "noun")),
    ("Consider a {} {} instead.", ("adj", "noun")),
    ("The main risk is the {} {}.", ("adj", "noun")),
    ("In {} this is usually handled by the {}.", ("city", "noun")),
    ("Try {} with {} and serve warm.", ("food", "food")),
    ("Use {} to {} the {}.", ("code", "verb", "noun")),
    ("Overall, the {} is {} but the {} needs work.", ("noun", "adj", "noun")),
)

TOOLS = (
    ("get_weather", '{"city": "%s"}', "city"),
    ("search_docs", '{"query": "%s"}', "noun"),
    ("create_ticket", '{"title": "%s"}', "noun"),
    ("convert_currency", '{"amount": %s, "to": "EUR"}', "n"),
)


class _Words:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._lists: dict[str, Sequence[str]] = {
            "noun": NOUNS,
            "adj": ADJECTIVES,
            "verb": [v.capitalize() for v in VERBS],
            "lang": LANGUAGES,
            "city": CITIES,
            "food": FOODS,
            "audience": AUDIENCES,
            "field": FIELDS,
            "code": CODE_LANGUAGES,
            "func": FUNCTIONS,
            "sentiment": SENTIMENTS,
        }

    def pick(self, kind: str) -> str:
        rng = self._rng
        if kind == "n":
            return str(rng.randint(2, 12))
        if kind == "ticket":
            return str(rng.randint(1000, 99999))
        return rng.choice(self._lists[kind])

    def fill(self, template: tuple[str, tuple[str, ...]]) -> str:
        pattern, kinds = template
        return pattern.format(*(self.pick(kind) for kind in kinds))


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class Texts:
    """Pools of prompts and answers, drawn once per run from the seed."""

    user_messages: tuple[str, ...]
    user_json: tuple[str, ...]  # each message as a JSON string literal
    responses: tuple[str, ...]
    reasonings: tuple[str, ...]
    tool_calls: tuple[str, ...]  # `tool_calls` column values, JSON text
    system_json: tuple[str, ...]

    @classmethod
    def draw(cls, rng: random.Random, size: int) -> Texts:
        words = _Words(rng)
        users = tuple(words.fill(rng.choice(TEMPLATES)) for _ in range(size))

        def sentences(low: int, high: int) -> str:
            return " ".join(words.fill(rng.choice(SENTENCES)) for _ in range(rng.randint(low, high)))

        responses = tuple(sentences(1, 4) for _ in range(size))
        reasonings = tuple(
            "Let me think. The user wants " + words.fill(rng.choice(TEMPLATES)).lower() + ". "
            + sentences(1, 3)
            for _ in range(max(1, size // 8))
        )  # fmt: skip
        calls = []
        for i in range(256):
            name, arguments, kind = rng.choice(TOOLS)
            call = {"id": f"call_{i:04d}{rng.getrandbits(40):010x}", "name": name}
            call["arguments"] = arguments % words.pick(kind)
            calls.append(_json([call]))
        return cls(
            user_messages=users,
            user_json=tuple(_json(m) for m in users),
            responses=responses,
            reasonings=reasonings,
            tool_calls=tuple(calls),
            system_json=tuple(_json(s) for s in SYSTEM_PROMPTS),
        )


# --- errors ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorKind:
    weight: float
    upstream_status: int | None
    http_status: int
    messages: dict[str, str]  # by provider; "" is the fallback; {p} provider, {m} model
    latency_ms: tuple[int, int]


ERROR_KINDS: tuple[ErrorKind, ...] = (
    ErrorKind(
        0.42,
        429,
        429,
        {
            "openai": "{p}: Rate limit reached for {m} in organization org-demo on tokens per "
            "min (TPM): Limit 200000, Used 198400, Requested 2650. Please try again in 315ms.",
            "anthropic": "{p}: This request would exceed your organization's rate limit of "
            "80,000 input tokens per minute.",
            "gemini": "{p}: Resource has been exhausted (e.g. check quota).",
            "": "{p}: Rate limit reached for requests",
        },
        (60, 400),
    ),
    ErrorKind(
        0.2,
        500,
        502,
        {
            "openai": "{p}: The server had an error while processing your request. Sorry "
            "about that!",
            "anthropic": "{p}: Internal server error",
            "gemini": "{p}: An internal error has occurred. Please retry.",
            "": "{p}: returned HTTP 500",
        },
        (300, 4000),
    ),
    ErrorKind(
        0.12,
        503,
        503,
        {
            "anthropic": "{p}: Overloaded",
            "gemini": "{p}: The model is overloaded. Please try again later.",
            "": "{p}: The engine is currently overloaded, please try again later",
        },
        (150, 1500),
    ),
    ErrorKind(
        0.12,
        None,
        504,
        {"": "{p}: the upstream did not answer in time (ReadTimeout)"},
        (30_000, 120_000),
    ),
    ErrorKind(
        0.08,
        400,
        400,
        {
            "openai": "{p}: This model's maximum context length is 128000 tokens. However, "
            "your messages resulted in 131072 tokens. Please reduce the length of the "
            "messages.",
            "anthropic": "{p}: prompt is too long: 213417 tokens > 200000 maximum",
            "": "{p}: The input token count exceeds the maximum number of tokens allowed.",
        },
        (80, 600),
    ),
    ErrorKind(
        0.06,
        None,
        502,
        {"": "{p}: could not reach the upstream (ConnectError)"},
        (5, 3000),
    ),
)


# --- the rows ----------------------------------------------------------------------------

HOUR_US = 3_600_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Share of traffic by UTC hour (Europe and the Americas awake), and by weekday.
HOURLY = (
    0.18, 0.14, 0.12, 0.11, 0.12, 0.18, 0.3, 0.48, 0.7, 0.88, 0.97, 1.0,
    0.95, 0.97, 1.0, 0.98, 0.92, 0.8, 0.65, 0.52, 0.42, 0.34, 0.27, 0.22,
)  # fmt: skip
WEEKDAY = (1.0, 1.04, 1.03, 1.0, 0.9, 0.38, 0.3)
GROWTH = 0.4  # traffic at the end of the window is 40% above its start

# Token counts: log-normal, clamped.
PROMPT_MU, PROMPT_SIGMA, PROMPT_MIN, PROMPT_MAX = math.log(350), 1.0, 20, 4000
COMPLETION_MU, COMPLETION_SIGMA, COMPLETION_MIN, COMPLETION_MAX = math.log(180), 0.9, 5, 1500
REASONING_MU, REASONING_SIGMA, REASONING_MIN, REASONING_MAX = math.log(500), 0.8, 32, 8000
CACHE_MIN_PROMPT = 1024  # OpenAI caches prompts from 1024 tokens, in steps of 128
CACHE_RATE = 0.55
CACHE_WRITE_RATE = 0.12
TOOL_CALL_RATE = 0.04
LENGTH_RATE = 0.02

_MASK62 = (1 << 62) - 1
_UUID7 = (7 << 76) | (2 << 62)


def _us(at: datetime) -> int:
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Traffic:
    """The demo rows, in time order, a chunk at a time.

    Deterministic for a seed (row ids apart): the row count over each hour of
    the window is drawn first (systematic sampling of hourly weights), then
    rows are drawn one after another, from separate random streams for
    timestamps, users, models and the rest.
    """

    def __init__(
        self,
        plans: Sequence[ModelPlan],
        user_ids: Sequence[uuid.UUID],
        *,
        start: datetime,
        end: datetime,
        rows: int,
        seed: int,
        encoders: Encoders,
    ) -> None:
        if not plans or not user_ids:
            raise ValueError("demo traffic needs models and users")
        self.rows = rows
        self.produced = 0
        self.errors = 0
        self._enc = encoders
        self._time_rng = random.Random(f"{seed}:time")
        self._user_rng = random.Random(f"{seed}:users")
        self._model_rng = random.Random(f"{seed}:models")
        self._rng = random.Random(f"{seed}:rows")
        self._id_rng = random.Random()  # ids only: fresh on every run
        self._texts = Texts.draw(random.Random(f"{seed}:texts"), min(16_384, max(64, rows)))

        self._plans = list(plans)
        setup = random.Random(f"{seed}:setup")
        self._models = [_Model(plan, encoders, i) for i, plan in enumerate(self._plans)]
        self._model_cum = list(itertools.accumulate(p.weight for p in self._plans))
        self._users = [encoders.ident(u) for u in user_ids]
        self._user_cum = list(
            itertools.accumulate(setup.lognormvariate(0.0, 1.1) for _ in user_ids)
        )
        self._favourite = setup.choices(
            range(len(self._plans)), cum_weights=self._model_cum, k=len(user_ids)
        )
        self._stamps = self._timestamps(_us(start), _us(end), rows)

    # Timestamps, in order: counts per hour, then uniform offsets within the hour.
    def _timestamps(self, start: int, end: int, rows: int) -> Iterator[int]:
        rng = self._time_rng
        spans: list[tuple[int, int]] = []
        weights: list[float] = []
        hour = start - start % HOUR_US
        total_span = end - start
        while hour < end:
            low, high = max(hour, start), min(hour + HOUR_US, end)
            if high > low:
                at = EPOCH + timedelta(microseconds=hour)
                trend = 1.0 + GROWTH * (low - start) / total_span
                noise = rng.lognormvariate(0.0, 0.25)
                spans.append((low, high))
                weights.append(
                    HOURLY[at.hour] * WEEKDAY[at.weekday()] * trend * noise * (high - low)
                )
            hour += HOUR_US
        scale = rows / sum(weights)
        shift = rng.random()
        cumulative = 0.0
        taken = 0
        for i, (low, high) in enumerate(spans):
            cumulative += weights[i]
            upto = rows if i == len(spans) - 1 else min(rows, int(cumulative * scale + shift))
            count, taken = upto - taken, max(taken, upto)
            if count <= 0:
                continue
            width = high - low
            yield from sorted(low + int(rng.random() * width) for _ in range(count))

    def chunk(self, size: int) -> list[Row]:
        """The next `size` rows at most; an empty list at the end."""
        size = min(size, self.rows - self.produced)
        if size <= 0:
            return []
        stamps = list(itertools.islice(self._stamps, size))
        users = self._user_rng.choices(range(len(self._users)), cum_weights=self._user_cum, k=size)
        picks = self._model_rng.choices(self._models, cum_weights=self._model_cum, k=size)
        rows = self._rows(stamps, users, picks)
        self.produced += len(rows)
        return rows

    def _rows(self, stamps: list[int], users: list[int], picks: list[_Model]) -> list[Row]:
        rng = self._rng
        rnd, gauss = rng.random, rng.gauss
        id_bits = self._id_rng.getrandbits
        enc_money, enc_when, enc_ident = self._enc.money, self._enc.when, self._enc.ident
        texts = self._texts
        user_messages, user_json, system_json = (
            texts.user_messages,
            texts.user_json,
            texts.system_json,
        )
        responses, reasonings, tool_calls = texts.responses, texts.reasonings, texts.tool_calls
        n_users, n_responses = len(user_messages), len(responses)
        n_reasonings, n_tools, n_systems = len(reasonings), len(tool_calls), len(SYSTEM_PROMPTS)
        models, favourite, user_ids = self._models, self._favourite, self._users
        exp, make_uuid, td = math.exp, uuid.UUID, timedelta
        errors = 0
        out: list[Row] = []
        append = out.append
        for stamp, user, model in zip(stamps, users, picks, strict=True):
            if rnd() < FAVOURITE_RATE:
                model = models[favourite[user]]
            created = EPOCH + td(microseconds=stamp)
            bits = id_bits(74)
            row_id = make_uuid(int=((stamp // 1000) << 80) | _UUID7 | ((bits >> 62) << 64) | (bits & _MASK62))  # noqa: E501
            system_i = int(rnd() * n_systems)
            user_i = int(rnd() * n_users)
            prompt = "system: " + SYSTEM_PROMPTS[system_i] + "\nuser: " + user_messages[user_i]
            messages = (
                '[{"role":"system","content":' + system_json[system_i]
                + '},{"role":"user","content":' + user_json[user_i] + "}]"
            )  # fmt: skip
            stream = rnd() < STREAM_RATE
            if rnd() < ERROR_RATE:
                errors += 1
                kind = model.error(rnd())
                latency = kind.low + int(rnd() * (kind.high - kind.low))
                append((
                    enc_ident(row_id), user_ids[user], model.id, model.provider_id,
                    model.name, model.provider, prompt, messages, None, None, None, None,
                    0, 0, 0, 0, 0, 0, None, None, None, None, None, None, None,
                    model.unpriced, latency, None, stream, "error", kind.message,
                    kind.upstream_status, kind.http_status,
                    enc_when(created), enc_when(created + td(milliseconds=latency)),
                ))  # fmt: skip
                continue
            prompt_tokens = int(exp(PROMPT_MU + PROMPT_SIGMA * gauss()))
            prompt_tokens = min(PROMPT_MAX, max(PROMPT_MIN, prompt_tokens))
            completion = int(exp(COMPLETION_MU + COMPLETION_SIGMA * gauss()))
            completion = min(COMPLETION_MAX, max(COMPLETION_MIN, completion))
            reasoning = 0
            reasoning_text = None
            if model.reasoning:
                reasoning = int(exp(REASONING_MU + REASONING_SIGMA * gauss()))
                reasoning = min(REASONING_MAX, max(REASONING_MIN, reasoning))
                if model.reasoning == VISIBLE_REASONING:
                    reasoning_text = reasonings[int(rnd() * n_reasonings)]
            cached = written = 0
            if model.caches and prompt_tokens >= CACHE_MIN_PROMPT and rnd() < CACHE_RATE:
                cached = int(prompt_tokens * (0.4 + 0.55 * rnd())) // 128 * 128
            if model.writes_cache and rnd() < CACHE_WRITE_RATE:
                written = int((prompt_tokens - cached) * (0.5 + 0.45 * rnd()))
            output = completion + reasoning
            finish = rnd()
            if finish < TOOL_CALL_RATE:
                finish_reason, response, calls = "tool_calls", None, tool_calls[int(rnd() * n_tools)]  # noqa: E501
            else:
                finish_reason = "length" if finish < TOOL_CALL_RATE + LENGTH_RATE else "stop"
                response, calls = responses[int(rnd() * n_responses)], None
            first = model.ttft_ms * exp(0.35 * gauss()) + prompt_tokens * 0.02
            first += reasoning * model.ms_per_token
            latency = int(first + completion * model.ms_per_token * exp(0.2 * gauss()))
            priced = None
            if model.price is not None:
                priced = cost(
                    Usage(prompt_tokens, output, cached, written, reasoning), model.price, created
                )
            if priced is None:
                prices: tuple[Any, ...] = (None, None, None, None)
                input_usd = output_usd = total_usd = None
            else:
                prices = model.encoded(priced.rates)
                input_usd, output_usd = priced.input_usd, priced.output_usd
                total_usd = enc_money(input_usd + output_usd)
                input_usd, output_usd = enc_money(input_usd), enc_money(output_usd)
            append((
                enc_ident(row_id), user_ids[user], model.id, model.provider_id,
                model.name, model.provider, prompt, messages, response, reasoning_text, calls,
                finish_reason, prompt_tokens, output, prompt_tokens + output, cached, written,
                reasoning, *prices, input_usd, output_usd, total_usd,
                priced is None and model.unpriced, latency, int(first) if stream else None,
                stream, "success", None, None, 200,
                enc_when(created), enc_when(created + td(milliseconds=latency)),
            ))  # fmt: skip
        self.errors += errors
        return out


class _ErrorChoice:
    __slots__ = ("high", "http_status", "low", "message", "upstream_status")

    def __init__(self, kind: ErrorKind, plan: ModelPlan) -> None:
        template = kind.messages.get(plan.provider) or kind.messages[""]
        self.message = template.format(p=plan.provider, m=plan.name)
        self.upstream_status = kind.upstream_status
        self.http_status = kind.http_status
        self.low, self.high = kind.latency_ms


class _Model:
    """A ModelPlan with everything a row needs ready: encoded ids and prices, errors."""

    __slots__ = (
        "_encoded",
        "_error_cum",
        "_errors",
        "_money",
        "caches",
        "id",
        "ms_per_token",
        "name",
        "price",
        "provider",
        "provider_id",
        "reasoning",
        "ttft_ms",
        "unpriced",
        "writes_cache",
    )

    def __init__(self, plan: ModelPlan, encoders: Encoders, _index: int) -> None:
        self.id = encoders.ident(plan.id)
        self.provider_id = encoders.ident(plan.provider_id)
        self.name = plan.name
        self.provider = plan.provider
        self.price = plan.price
        self.unpriced = plan.price is None
        base = plan.price.base if plan.price else None
        self.caches = base is not None and base.cached_input is not None
        self.writes_cache = base is not None and base.cache_write is not None
        self.reasoning = plan.reasoning
        self.ttft_ms = plan.ttft_ms
        self.ms_per_token = 1000.0 / plan.tokens_per_second
        self._encoded: dict[int, tuple[Any, ...]] = {}
        self._money = encoders.money
        total = sum(kind.weight for kind in ERROR_KINDS)
        self._errors = [_ErrorChoice(kind, plan) for kind in ERROR_KINDS]
        self._error_cum = list(itertools.accumulate(kind.weight / total for kind in ERROR_KINDS))

    def error(self, draw: float) -> _ErrorChoice:
        for bound, choice in zip(self._error_cum, self._errors, strict=True):
            if draw < bound:
                return choice
        return self._errors[-1]

    def encoded(self, rates: Rates) -> tuple[Any, ...]:
        """The price columns for the rates charged (base, tier or peak), encoded once."""
        found = self._encoded.get(id(rates))
        if found is None:
            money = self._money
            found = (
                money(rates.input),
                money(rates.output),
                money(rates.cached_input),
                money(rates.cache_write),
            )
            self._encoded[id(rates)] = found
        return found


# --- writing -----------------------------------------------------------------------------


async def _chunks(traffic: Traffic, size: int) -> Any:
    """Chunks of rows, each drawn in a worker thread while the previous one is written."""
    pending = asyncio.ensure_future(asyncio.to_thread(traffic.chunk, size))
    while True:
        rows = await pending
        if not rows:
            return
        pending = asyncio.ensure_future(asyncio.to_thread(traffic.chunk, size))
        yield rows


async def _write_postgres(
    session: AsyncSession,
    conn: AsyncConnection,
    traffic: Traffic,
    size: int,
    progress: Callable[[int, int], None],
    say: Note,
) -> tuple[str, ...]:
    await conn.execute(text("SELECT 1"))  # opens the transaction the COPYs run in
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:
        raise RuntimeError("no asyncpg connection")
    done = 0
    async for rows in _chunks(traffic, size):
        await driver.copy_records_to_table("requests", records=rows, columns=COLUMNS)
        done += len(rows)
        progress(done, traffic.rows)
    return ()


async def _write_sqlite(
    session: AsyncSession,
    conn: AsyncConnection,
    traffic: Traffic,
    size: int,
    progress: Callable[[int, int], None],
    say: Note,
) -> tuple[str, ...]:
    statement = (
        f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    done = since_commit = 0
    async for rows in _chunks(traffic, size):
        await conn.exec_driver_sql(statement, rows)  # type: ignore[arg-type]
        done += len(rows)
        since_commit += len(rows)
        if since_commit >= SQLITE_COMMIT_ROWS:
            await session.commit()
            conn = await session.connection()
            since_commit = 0
        progress(done, traffic.rows)
    return ()


async def count_requests(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Request)) or 0)


__all__ = [
    "COLUMNS",
    "DemoReport",
    "Traffic",
    "generate_demo_data",
]

_ = Decimal  # re-exported type in annotations of callers
