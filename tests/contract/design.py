"""The original design document's API examples, parsed, and a JSON shape check.

`sections()` reads every `#### GET|POST /path` heading of original-design.md:
its documented query parameters, its request and response examples, and its
curl examples. `shape_errors()` compares a live body with a documented
example: every documented field present, of the documented JSON type (number,
string, boolean, object, array), at every level; array elements are checked
against the documented element. A documented `null` means "nullable, any type".
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DESIGN = Path(__file__).resolve().parent / "original-design.md"
HEADING = re.compile(r"^#### (GET|POST|PUT|PATCH|DELETE) (/\S+)\s*$")
LABEL = re.compile(r"^\*\*([A-Za-z ]+):\*\*\s*$")
PARAM = re.compile(r"^- `(\w+)` \(([^)]*)\)")


@dataclass(frozen=True)
class Curl:
    method: str
    path: str  # with its query string
    headers: dict[str, str]
    body: Any


@dataclass
class Section:
    method: str
    path: str  # the template, e.g. /v1/analytics/requests/{request_id}
    params: list[tuple[str, str]] = field(default_factory=list)  # ("query"|"path", name)
    request: Any = None
    response: Any = None
    curls: list[Curl] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def _blocks(lines: list[str]) -> list[tuple[str | None, str, str]]:
    """(label, language, text) of each fenced block; the label is the last
    `**Label:**` line before it."""
    out, label, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        if m := LABEL.match(line):
            label = m.group(1)
        elif line.startswith("```"):
            end = lines.index("```", i + 1)
            out.append((label, line[3:].strip(), "\n".join(lines[i + 1 : end])))
            i = end
        i += 1
    return out


def curls(script: str) -> list[Curl]:
    """Every `curl` command of a shell snippet: method, path and query, headers, body."""
    words = shlex.split(script.replace("\\\n", " "), comments=True)
    starts = [i for i, word in enumerate(words) if word == "curl"]
    found = []
    for start, end in itertools.pairwise([*starts, len(words)]):
        command = words[start + 1 : end]
        method, headers, body = "GET", {}, None
        for flag, value in itertools.pairwise(command):
            if flag == "-X":
                method = value
            elif flag == "-H":
                name, _, text = value.partition(":")
                headers[name.strip()] = text.strip()
            elif flag == "-d":
                body = json.loads(value)
        url = next(w for w in command if w.startswith("http"))
        found.append(Curl(method, re.sub(r"^https?://[^/]+", "", url), headers, body))
    return found


def sections(text: str | None = None) -> list[Section]:
    lines = (text if text is not None else DESIGN.read_text()).splitlines()
    starts = [i for i, line in enumerate(lines) if HEADING.match(line)]
    found = []
    for start in starts:
        m = HEADING.match(lines[start])
        assert m
        end = start + 1
        in_fence = False
        while end < len(lines):
            line = lines[end]
            in_fence ^= line.startswith("```")
            if not in_fence and re.match(r"^#{2,4} ", line):
                break
            end += 1
        body = lines[start + 1 : end]
        section = Section(m.group(1), m.group(2))
        label = None
        for line in body:
            if m := LABEL.match(line):
                label = m.group(1)
            elif (p := PARAM.match(line)) and label in ("Query Parameters", "Path Parameters"):
                kind = "query" if label.startswith("Query") else "path"
                section.params.append((kind, p.group(1)))
        for label, language, block in _blocks(body):
            if language == "json" and label == "Request":
                section.request = json.loads(block)
            elif language == "json" and label == "Response":
                section.response = json.loads(block)
            elif language == "bash":
                section.curls += curls(block)
        found.append(section)
    return found


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_errors(
    documented: Any,
    actual: Any,
    where: str = "",
    *,
    nullable: frozenset[str] = frozenset(),
    seen_elements: set[str] | None = None,
) -> list[str]:
    """Where `actual` departs from the documented example's shape.

    Paths read like `by_model[].cost_usd`; a path in `nullable` may also be
    null. Each array path whose live value had an element to check is added to
    `seen_elements`, so a caller can tell a checked element shape from an empty list.
    """
    want, got = _json_type(documented), _json_type(actual)
    if want == "null" or (got == "null" and where in nullable):
        return []
    if want != got:
        return [f"{where or '(body)'}: documented {want}, got {got} ({actual!r:.80})"]
    errors: list[str] = []
    if want == "object":
        for key, example in documented.items():
            path = f"{where}.{key}" if where else key
            if key not in actual:
                errors.append(f"{path}: documented, missing")
                continue
            errors += shape_errors(
                example, actual[key], path, nullable=nullable, seen_elements=seen_elements
            )
    elif want == "array" and documented:
        path = f"{where}[]"
        if actual and seen_elements is not None:
            seen_elements.add(path)
        for element in actual:
            for example in documented:
                errors += shape_errors(
                    example, element, path, nullable=nullable, seen_elements=seen_elements
                )
    return errors


def array_paths(documented: Any, where: str = "") -> set[str]:
    """Every documented array with an element example, as `shape_errors` names them."""
    if isinstance(documented, dict):
        found: set[str] = set()
        for key, value in documented.items():
            found |= array_paths(value, f"{where}.{key}" if where else key)
        return found
    if isinstance(documented, list) and documented:
        path = f"{where}[]"
        return {path}.union(*(array_paths(e, path) for e in documented))
    return set()
