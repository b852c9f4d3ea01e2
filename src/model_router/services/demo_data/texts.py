"""What demo requests say: prompts, answers, reasoning, tool calls and errors.

Short texts filled in from a vocabulary of a few hundred words (much shorter
than their token counts, so the table and its trigram index stay small), drawn
once per run into the pools of `Texts`; and the upstream failures the router
records (`ERROR_KINDS`), with each provider's own wording.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOUNS = _words(
    "invoice budget forecast customer ticket refund shipment warehouse order contract "
    "clause policy report incident firewall password dashboard revenue churn cohort "
    "retention experiment hypothesis paper abstract citation protein enzyme climate "
    "battery charger vehicle league transfer album guitar poem story castle startup "
    "investor valuation wallet audit mortgage inflation salary interview resume "
    "database query index migration schema endpoint cache queue cluster container "
    "pipeline deployment rollback release changelog roadmap backlog sprint meeting "
    "agenda minutes newsletter campaign audience funnel pricing discount coupon "
    "subscription onboarding handbook payroll vendor supplier inventory recipe sauce "
    "garden kitchen bicycle marathon podcast episode trailer festival museum itinerary "
    "hotel flight visa passport insurance claim warranty lease spreadsheet formula "
    "chart metric anomaly outage latency throughput token prompt model embedding "
    "dataset label classifier regression gradient tensor"
)
ADJECTIVES = _words(
    "quarterly urgent friendly formal casual detailed brief technical simple legal "
    "overdue annual monthly weekly secure scalable legacy modern cheap premium remote "
    "hybrid seasonal vegan spicy rainy historic coastal medieval quantum organic "
    "cautious optimistic persuasive neutral playful"
)
VERBS = _words(
    "Summarise Explain Translate Draft Review Rewrite Classify Extract Compare List "
    "Outline Estimate Debug Optimise Refactor Document Test Plan Schedule Forecast"
)
LANGUAGES = _words("French German Spanish Italian Portuguese Japanese Dutch Polish Korean")
CITIES = _words(
    "Lisbon Kyoto Berlin Lagos Lima Oslo Hanoi Austin Cairo Dublin Seoul Quito Porto "
    "Krakow Nairobi Montreal Bologna Tbilisi Bergen Valencia"
)
FOODS = _words(
    "garlic lemon chickpeas salmon tofu mushrooms spinach rice lentils pasta tomatoes "
    "basil ginger coconut paprika eggs"
)
AUDIENCES = _words("child beginner manager lawyer nurse engineer student investor")
FIELDS = _words("dates amounts names addresses emails totals deadlines")
CODE_LANGUAGES = _words("Python TypeScript Go Rust SQL Java Kotlin Bash")
FUNCTIONS = _words("parse_invoice retry_with_backoff merge_ranges slugify rate_limit to_cents")
REVIEWS = (
    "late again",
    "loved the update",
    "no answer",
    "fine, but pricey",
    "best buy this year",
    "crashes at login",
)

SYSTEM_PROMPTS = (
    "You are helpful.",
    "Be concise.",
    "Be brief.",
    "Use JSON.",
    "Answer in French.",
    "You review code.",
    "Think step by step.",
    "You write ad copy.",
    "You know SQL.",
    "Be precise.",
    "You plan trips.",
    "Cite sources.",
)

# (pattern, slot kinds); a kind names a word list of `_Words`.
PROMPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Summarise the {} {}", ("adj", "noun")),
    ("Translate to {}: {}", ("lang", "review")),
    ("Email about the {} {}", ("adj", "noun")),
    ("Explain {} to my {}", ("noun", "audience")),
    ("Fix {} bug in {}()", ("code", "func")),
    ("Compare {} and {}", ("noun", "noun")),
    ("{} ideas for a {}", ("n", "noun")),
    ("Sentiment: {}", ("review",)),
    ("Extract {} from the {}", ("field", "noun")),
    ("SQL: {} by {}", ("noun", "noun")),
    ("Plan {} days in {}", ("n", "city")),
    ("Reply to ticket #{}", ("ticket",)),
    ("Why is the {} slow?", ("noun",)),
    ("Make it {}: {}", ("adj", "review")),
    ("Test {}()", ("func",)),
    ("Risks of the {} {}?", ("adj", "noun")),
    ("Cook {} with {}", ("food", "food")),
    ("{} the {} {}", ("verb", "adj", "noun")),
    ("Haiku about the {}", ("noun",)),
    ("Best {} in {}?", ("noun", "city")),
    ("Estimate the {} {}", ("noun", "noun")),
)

SENTENCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("The {} {} looks {} this quarter.", ("adj", "noun", "adj")),
    ("Start with the {} and check the {}.", ("noun", "noun")),
    ("Here is a {} summary of the {}.", ("adj", "noun")),
    ("I would {} the {} first.", ("action", "noun")),
    ("Consider a {} {} instead.", ("adj", "noun")),
    ("The main risk is the {} {}.", ("adj", "noun")),
    ("In {} this is usually handled by the {}.", ("city", "noun")),
    ("Try {} with {} and serve warm.", ("food", "food")),
    ("Use {} to {} the {}.", ("code", "action", "noun")),
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
            "verb": VERBS,
            "action": [verb.lower() for verb in VERBS],
            "lang": LANGUAGES,
            "city": CITIES,
            "food": FOODS,
            "audience": AUDIENCES,
            "field": FIELDS,
            "code": CODE_LANGUAGES,
            "func": FUNCTIONS,
            "review": REVIEWS,
        }

    def pick(self, kind: str) -> str:
        if kind == "n":
            return str(self._rng.randint(2, 12))
        if kind == "ticket":
            return str(self._rng.randint(1000, 99999))
        return self._rng.choice(self._lists[kind])

    def fill(self, template: tuple[str, tuple[str, ...]]) -> str:
        pattern, kinds = template
        return pattern.format(*(self.pick(kind) for kind in kinds))

    def sentences(self, low: int, high: int) -> str:
        count = self._rng.randint(low, high)
        return " ".join(self.fill(self._rng.choice(SENTENCES)) for _ in range(count))


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class Texts:
    """Pools of prompts and answers drawn once per run; rows pick from them."""

    prompts: tuple[str, ...]  # `prompt_text`: a system and a user message
    messages: tuple[str, ...]  # `request_messages`: the same, as JSON text
    responses: tuple[str, ...]
    reasonings: tuple[str, ...]
    tool_calls: tuple[str, ...]  # `tool_calls` column values, as JSON text

    @classmethod
    def draw(cls, rng: random.Random, size: int) -> Texts:
        words = _Words(rng)
        pairs = [(rng.choice(SYSTEM_PROMPTS), words.fill(rng.choice(PROMPTS))) for _ in range(size)]
        responses = tuple(words.sentences(1, 4) for _ in range(size))
        reasonings = tuple(
            f"Let me think. {words.fill(rng.choice(PROMPTS))}? {words.sentences(1, 3)}"
            for _ in range(max(1, size // 8))
        )
        calls = []
        for i in range(256):
            name, arguments, kind = rng.choice(TOOLS)
            call_id = f"call_{i:03d}{rng.getrandbits(48):012x}"
            calls.append(
                _json([{"id": call_id, "name": name, "arguments": arguments % words.pick(kind)}])
            )
        return cls(
            # As the router writes them: see ChatCompletionRequest.prompt_text.
            prompts=tuple(f"system: {system}\nuser: {user}" for system, user in pairs),
            messages=tuple(
                _json([{"role": "system", "content": system}, {"role": "user", "content": user}])
                for system, user in pairs
            ),
            responses=responses,
            reasonings=reasonings,
            tool_calls=tuple(calls),
        )


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """A failure the router records, and how often it comes up (`weight`)."""

    weight: float
    upstream_status: int | None
    http_status: int  # as the router maps the upstream status
    messages: dict[str, str]  # by provider, "" for the rest; {p} provider, {m} model
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
