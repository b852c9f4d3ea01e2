"""The demo rows themselves: `Traffic` makes them, in time order, a chunk at a time.

- Times: a count per hour of the window from a daily and weekly rhythm (working
  hours and weekdays busier) with slow growth and some noise, then spread
  within each hour.
- Users: some much busier than others, each with a favourite model; models by
  popularity (`ModelPlan.weight`).
- About 5% errors (`ERROR_KINDS`), about 30% streams, log-normal token counts,
  cache reads for models with a cached price, reasoning tokens for reasoning
  models.
- Costs from the project's own `cost()`, at the catalogue price, peak hours
  included; models without a price get null costs and `cost_unknown`.
- Tags and front doors like real callers' (see `labels`).

A successful row takes one of its model's profiles (token counts, answer, the
rates charged and their costs, drawn once and shared by many rows); the rest
is drawn for each row. Values come out as the `Codec` stores them.
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from model_router.costs.pricing import Peak, cost
from model_router.domain import Usage
from model_router.domain.request import FrontDoor
from model_router.services.demo_data.codecs import EPOCH, Codec
from model_router.services.demo_data.labels import FRONT_DOORS, user_tags
from model_router.services.demo_data.plans import VISIBLE_REASONING, ModelPlan
from model_router.services.demo_data.texts import ERROR_KINDS, ErrorKind, Texts

ERROR_RATE = 0.05
STREAM_RATE = 0.30
FAVOURITE_RATE = 0.35  # share of a user's requests that go to their favourite model
TOOL_CALL_RATE = 0.04
LENGTH_RATE = 0.02

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
    "cache_write_1h_price_per_1m_tokens",
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
    "tags",
    "front_door",
)

Row = tuple[Any, ...]

HOUR_US = 3_600_000_000
DAY_SECONDS = 86_400
# Relative traffic by UTC hour (Europe and the Americas awake), and by weekday.
HOURLY = (
    0.18, 0.14, 0.12, 0.11, 0.12, 0.18, 0.3, 0.48, 0.7, 0.88, 0.97, 1.0,
    0.95, 0.97, 1.0, 0.98, 0.92, 0.8, 0.65, 0.52, 0.42, 0.34, 0.27, 0.22,
)  # fmt: skip
WEEKDAY = (1.0, 1.04, 1.03, 1.0, 0.9, 0.38, 0.3)
GROWTH = 0.4  # traffic at the end of the window is 40% above its start
HOUR_NOISE = 0.25  # log-normal sigma of each hour's weight

# Token counts: log-normal (median, sigma), clamped.
PROMPT_TOKENS = (350, 1.0, 20, 4000)
COMPLETION_TOKENS = (180, 0.9, 5, 1500)
REASONING_TOKENS = (500, 0.8, 32, 8000)
CACHE_MIN_PROMPT = 1024  # prompts are cached from 1024 tokens, in steps of 128
CACHE_RATE = 0.55
CACHE_WRITE_RATE = 0.12
TABLE_SIZE = 8192  # draws per distribution, sampled once per run
PROFILES = 16_384  # successful-request profiles over all models (64 to 4096 each)

_UUID7_HIGH = 7 << 12  # version 7 ...
_UUID7_LOW = 2 << 62  # ... RFC 4122 variant


def _micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def _lognormal_table(
    rng: random.Random, median: float, sigma: float, low: int, high: int
) -> list[int]:
    mu = math.log(median)
    return [min(high, max(low, int(rng.lognormvariate(mu, sigma)))) for _ in range(TABLE_SIZE)]


class _ErrorChoice:
    __slots__ = ("high", "http_status", "low", "message", "upstream_status")

    def __init__(self, kind: ErrorKind, plan: ModelPlan) -> None:
        template = kind.messages.get(plan.provider) or kind.messages[""]
        self.message = template.format(p=plan.provider, m=plan.name)
        self.upstream_status = kind.upstream_status
        self.http_status = kind.http_status
        self.low, self.high = kind.latency_ms


# A profile: what a successful request to a model looks like (tokens, answer, prices
# charged, costs), drawn once and shared by many rows: the `requests` columns from
# `response_text` to `cost_unknown`, off-peak and in peak hours (None for models without
# peak hours), then the base time to first token and generation time in ms.
Part = tuple[Any, ...]
Profile = tuple[Part, Part | None, float, float]


def _peak_time(peak: Peak | None) -> datetime | None:
    """A time when `peak` rates apply, if they ever do: the start of a window."""
    if peak is None:
        return None
    for start, _ in peak.windows:
        at = datetime.combine(EPOCH.date(), start, UTC)
        if peak.active(at):
            return at
    return None


class _Model:
    """A ModelPlan made ready for the row loop: encoded ids, profiles, errors, peak hours."""

    __slots__ = (
        "_codec",
        "_error_bounds",
        "_errors",
        "_peak_seconds",
        "_price_columns",
        "caches",
        "id",
        "ms_per_token",
        "name",
        "peak",
        "peak_at",
        "price",
        "profiles",
        "provider",
        "provider_id",
        "reasoning",
        "ttft_ms",
        "writes_cache",
    )

    def __init__(self, plan: ModelPlan, codec: Codec, profiles: int) -> None:
        self._codec = codec
        self.id = codec.uuid(plan.id)
        self.provider_id = codec.uuid(plan.provider_id)
        self.name = plan.name
        self.provider = plan.provider
        self.reasoning = plan.reasoning
        self.ttft_ms = plan.ttft_ms
        self.ms_per_token = 1000.0 / plan.tokens_per_second
        self.price = price = plan.price
        base = price.base if price is not None else None
        self.caches = base is not None and base.cached_input is not None
        self.writes_cache = base is not None and base.cache_write is not None
        self.peak = peak = price.peak if price is not None else None
        self.peak_at = _peak_time(peak)  # to price the peak-hours side of profiles
        # Whether peak rates apply, by second of the UTC day; 2 = not looked up yet.
        self._peak_seconds = bytearray(b"\x02" * DAY_SECONDS)
        self._price_columns: dict[int, tuple[Any, ...]] = {}
        self.profiles: list[Profile | None] = [None] * profiles
        total = sum(kind.weight for kind in ERROR_KINDS)
        self._errors = [_ErrorChoice(kind, plan) for kind in ERROR_KINDS]
        self._error_bounds = list(itertools.accumulate(k.weight / total for k in ERROR_KINDS))

    def error(self, draw: float) -> _ErrorChoice:
        for bound, choice in zip(self._error_bounds, self._errors, strict=True):
            if draw < bound:
                return choice
        return self._errors[-1]

    def charged(self, usage: Usage, when: datetime | None) -> Part:
        """The price, cost and cost_unknown columns of `usage`, from `cost()` itself."""
        found = cost(usage, self.price, when)
        if found is None:
            return (None, None, None, None, None, None, None, None, self.price is None)
        money, units = self._codec.money, self._codec.units
        rates = found.rates
        prices = self._price_columns.get(id(rates))
        if prices is None:
            prices = self._price_columns[id(rates)] = tuple(
                None if rate is None else money(units(rate))
                for rate in (
                    rates.input,
                    rates.output,
                    rates.cached_input,
                    rates.cache_write,
                    rates.cache_write_1h,
                )
            )
        return (
            *prices,
            money(units(found.input_usd)),
            money(units(found.output_usd)),
            money(units(found.total_usd)),
            False,
        )

    def in_peak(self, at: int) -> bool:
        """`Peak.active` for a time in Unix microseconds (looked up once per second of day)."""
        second = at // 1_000_000 % DAY_SECONDS
        known = self._peak_seconds[second]
        if known == 2:
            peak = self.peak
            if peak is None:
                return False
            if any(bound.microsecond for window in peak.windows for bound in window):
                return peak.active(EPOCH + timedelta(microseconds=at))  # pragma: no cover
            known = self._peak_seconds[second] = peak.active(EPOCH + timedelta(seconds=second))
        return bool(known)


class Traffic:
    """The demo rows, in time order, a chunk at a time.

    Row counts per hour of the window come first (systematic sampling of the
    hourly weights); then rows are drawn one after another from separate random
    streams (timestamps, users, models, tags, front doors, rows, profiles), so
    they do not depend on the chunk size. A successful row takes one of its
    model's profiles, built the first time it is drawn: how many a model has
    follows its share of traffic (`PROFILES` in all).
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
        codec: Codec,
    ) -> None:
        if not plans or not user_ids:
            raise ValueError("demo traffic needs models and users")
        self.rows = rows
        self.produced = 0
        self.errors = 0
        self._codec = codec
        self._stamp_rng = random.Random(f"{seed}:time")
        self._user_rng = random.Random(f"{seed}:users")
        self._model_rng = random.Random(f"{seed}:models")
        self._rng = random.Random(f"{seed}:rows")
        self._profile_rng = random.Random(f"{seed}:profiles")
        self._tag_rng = random.Random(f"{seed}:tags")
        self._door_rng = random.Random(f"{seed}:doors")
        self._id_rng = random.Random()  # row ids only: fresh on every run
        self._texts = Texts.draw(random.Random(f"{seed}:texts"), min(16_384, max(64, rows)))
        tables = random.Random(f"{seed}:tokens")
        self._prompt_tokens = _lognormal_table(tables, *PROMPT_TOKENS)
        self._completion_tokens = _lognormal_table(tables, *COMPLETION_TOKENS)
        self._reasoning_tokens = _lognormal_table(tables, *REASONING_TOKENS)
        self._jitter = [tables.lognormvariate(0.0, 0.3) for _ in range(TABLE_SIZE)]

        weight = sum(plan.weight for plan in plans)
        self._models = [
            _Model(plan, codec, min(4096, max(64, round(PROFILES * plan.weight / weight))))
            for plan in plans
        ]
        self._model_bounds = list(itertools.accumulate(plan.weight for plan in plans))
        setup = random.Random(f"{seed}:setup")
        self._users = [codec.uuid(u) for u in user_ids]
        self._user_bounds = list(
            itertools.accumulate(setup.lognormvariate(0.0, 1.1) for _ in user_ids)
        )
        self._favourite = setup.choices(
            self._models, cum_weights=self._model_bounds, k=len(user_ids)
        )
        self._user_tags, self._variant_bounds = user_tags(len(user_ids))
        self._doors = [door for door, _ in FRONT_DOORS]
        self._door_bounds = list(itertools.accumulate(share for _, share in FRONT_DOORS))
        self._stamps = self._timestamps(_micros(start), _micros(end), rows)

    def _timestamps(self, start: int, end: int, rows: int) -> Iterator[int]:
        """Row times in order: a count per hour of the window, spread within the hour."""
        rng = self._stamp_rng
        spans: list[tuple[int, int]] = []
        weights: list[float] = []
        length = end - start
        hour = start - start % HOUR_US
        while hour < end:
            low, high = max(hour, start), min(hour + HOUR_US, end)
            if high > low:
                at = EPOCH + timedelta(microseconds=hour)
                trend = 1.0 + GROWTH * (low - start) / length
                noise = rng.lognormvariate(0.0, HOUR_NOISE)
                spans.append((low, high))
                weights.append(
                    HOURLY[at.hour] * WEEKDAY[at.weekday()] * trend * noise * (high - low)
                )
            hour += HOUR_US
        scale = rows / sum(weights)
        shift = rng.random()
        cumulative = 0.0
        taken = 0
        last = len(spans) - 1
        for i, (low, high) in enumerate(spans):
            cumulative += weights[i]
            upto = rows if i == last else min(rows, int(cumulative * scale + shift))
            if upto <= taken:
                continue
            width = high - low
            draw = rng.random
            yield from sorted([low + int(draw() * width) for _ in range(upto - taken)])
            taken = upto

    def chunk(self, size: int) -> list[Row]:
        """The next `size` rows at most; an empty list once all are made."""
        size = min(size, self.rows - self.produced)
        if size <= 0:
            return []
        # The rows hold no reference cycles; the collector would only slow them down (~25%).
        collecting = gc.isenabled()
        gc.disable()
        try:
            stamps = list(itertools.islice(self._stamps, size))
            users = self._user_rng.choices(
                range(len(self._users)), cum_weights=self._user_bounds, k=size
            )
            models = self._model_rng.choices(self._models, cum_weights=self._model_bounds, k=size)
            variants = self._tag_rng.choices(
                range(len(self._variant_bounds)), cum_weights=self._variant_bounds, k=size
            )
            doors = self._door_rng.choices(self._doors, cum_weights=self._door_bounds, k=size)
            rows = self._rows(stamps, users, models, variants, doors)
        finally:
            if collecting:
                gc.enable()
        self.produced += len(rows)
        return rows

    def _rows(
        self,
        stamps: list[int],
        users: list[int],
        models: list[_Model],
        variants: list[int],
        doors: list[FrontDoor],
    ) -> list[Row]:
        rnd = self._rng.random
        id_bits = self._id_rng.getrandbits
        new_id, new_stamp, shift = self._codec.row_id, self._codec.stamp, self._codec.stamp_shift
        prompts, messages = self._texts.prompts, self._texts.messages
        n_prompts = len(prompts)
        jitter = self._jitter
        favourite, user_ids, user_tags = self._favourite, self._users, self._user_tags
        profile_of = self._profile
        errors = 0
        out: list[Row] = []
        append = out.append
        for at, user, model, variant, door in zip(
            stamps, users, models, variants, doors, strict=True
        ):
            if rnd() < FAVOURITE_RATE:
                model = favourite[user]
            # UUIDv7: 48 bits of milliseconds, version, 12 + 62 random bits, variant.
            row_id = new_id(
                (at // 1000) << 16 | _UUID7_HIGH | id_bits(12), _UUID7_LOW | id_bits(62)
            )
            said = int(rnd() * n_prompts)
            stream = rnd() < STREAM_RATE
            head = (
                row_id, user_ids[user], model.id, model.provider_id, model.name, model.provider,
                prompts[said], messages[said],
            )  # fmt: skip
            if rnd() < ERROR_RATE:
                errors += 1
                kind = model.error(rnd())
                latency = kind.low + int(rnd() * (kind.high - kind.low))
                append((
                    *head, None, None, None, None, 0, 0, 0, 0, 0, 0, None, None, None, None,
                    None, None, None, None, model.price is None, latency, None, stream, "error",
                    kind.message, kind.upstream_status, kind.http_status, new_stamp(at - shift),
                    new_stamp(at - shift + latency * 1000), user_tags[user][variant], door,
                ))  # fmt: skip
                continue
            pool = model.profiles
            which = int(rnd() * len(pool))
            profile = pool[which] or profile_of(model, which)
            part, peak_part, first, generation = profile
            if peak_part is not None and model.in_peak(at):
                part = peak_part
            first *= jitter[int(rnd() * TABLE_SIZE)]
            latency = int(first + generation * jitter[int(rnd() * TABLE_SIZE)])
            # (Concatenating tuples takes half the time of unpacking them into a new one.)
            append(head + part + (
                latency, int(first) if stream else None, stream, "success", None, None, 200,
                new_stamp(at - shift), new_stamp(at - shift + latency * 1000),
                user_tags[user][variant], door,
            ))  # fmt: skip
        self.errors += errors
        return out

    def _profile(self, model: _Model, which: int) -> Profile:
        """Draws profile `which` of `model` (profiles are drawn in the order rows need them)."""
        rnd = self._profile_rng.random
        size = self._prompt_tokens[int(rnd() * TABLE_SIZE)]
        completion = self._completion_tokens[int(rnd() * TABLE_SIZE)]
        reasoning = 0
        thoughts = None
        if model.reasoning:
            reasoning = self._reasoning_tokens[int(rnd() * TABLE_SIZE)]
            if model.reasoning == VISIBLE_REASONING:
                thoughts = self._texts.reasonings[int(rnd() * len(self._texts.reasonings))]
        cached = written = 0
        if model.caches and size >= CACHE_MIN_PROMPT and rnd() < CACHE_RATE:
            cached = int(size * (0.4 + 0.55 * rnd())) // 128 * 128
        if model.writes_cache and rnd() < CACHE_WRITE_RATE:
            written = int((size - cached) * (0.5 + 0.45 * rnd()))
        finish = rnd()
        calls = response = None
        if finish < TOOL_CALL_RATE:
            finish_reason = "tool_calls"
            calls = self._texts.tool_calls[int(rnd() * len(self._texts.tool_calls))]
        else:
            finish_reason = "length" if finish < TOOL_CALL_RATE + LENGTH_RATE else "stop"
            response = self._texts.responses[int(rnd() * len(self._texts.responses))]
        output = completion + reasoning
        usage = Usage(size, output, cached, written, reasoning)
        common = (
            response, thoughts, calls, finish_reason, size, output, size + output, cached,
            written, reasoning,
        )  # fmt: skip
        # Off peak, `cost()` picks the base or long-context rates whatever the time;
        # `_Model.in_peak` decides, per row, when the peak side applies instead.
        off_peak = common + model.charged(usage, None)
        in_peak = None
        if model.peak_at is not None:
            in_peak = common + model.charged(usage, model.peak_at)
        first = model.ttft_ms + size * 0.02 + reasoning * model.ms_per_token
        profile = (off_peak, in_peak, first, completion * model.ms_per_token)
        model.profiles[which] = profile
        return profile
