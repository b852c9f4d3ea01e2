"""Writes bench/bodies/: the static upstream answers nginx serves in the benchmark.

Run it only to change them (`.venv/bin/python bench/make_bodies.py`); the files
are kept in git. They follow the wire formats of tests/mocks/*_mock.py and of
the real APIs: an OpenAI chat.completion with usage, and its SSE stream of a
role chunk, exactly 50 content chunks, a finish chunk, a usage chunk and
[DONE]; an Anthropic message and its event stream (message_start,
content_block_start, ping, 50 text deltas, content_block_stop, message_delta,
message_stop); a Gemini GenerateContentResponse and its `alt=sse` stream of 50
chunks (CRLF framing, cumulative usageMetadata, finishReason on the last); an
OpenAI Responses API `response` and its event stream (created, in_progress,
output item and content part added, 50 `response.output_text.delta`s, the
done events, completed), which a peer gateway's `/v1/responses` reaches
(the router's own goes through Chat Completions); an OpenAI embeddings list of
one 1,536-dimension vector.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent / "bodies"
CHUNKS = 50
CREATED = 1795723200

# 50 pieces, the size of real tokens; joined they make the answer.
PIECES = (
    "A write",
    "-ahead",
    " log",
    " (WAL)",
    " records",
    " every",
    " change",
    " before",
    " it",
    " reaches",
    " the",
    " data",
    " files",
    ".",
    " If",
    " the",
    " process",
    " crashes",
    ",",
    " the",
    " database",
    " replays",
    " the",
    " log",
    " from",
    " the",
    " last",
    " checkpoint",
    " and",
    " nothing",
    " committed",
    " is",
    " lost",
    ".",
    " Because",
    " appends",
    " are",
    " sequential",
    ",",
    " writes",
    " stay",
    " fast",
    ",",
    " and",
    " readers",
    " never",
    " block",
    " writers",
    ".",
    "\n",
)
assert len(PIECES) == CHUNKS
TEXT = "".join(PIECES)
PROMPT_TOKENS, COMPLETION_TOKENS = 412, CHUNKS


def dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def openai() -> tuple[str, str]:
    usage = {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        "prompt_tokens_details": {"cached_tokens": 128, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    base = {
        "id": "chatcmpl-BENCHa1b2c3d4e5f6g7h8i9j0",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_bench01",
    }
    completion = {
        **base,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": TEXT,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }
    chunk = {**base, "object": "chat.completion.chunk"}

    def frame(delta: dict[str, object], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return "data: " + dump({**chunk, "choices": [choice], "usage": None}) + "\n\n"

    frames = [frame({"role": "assistant", "content": "", "refusal": None})]
    frames += [frame({"content": piece}) for piece in PIECES]
    frames.append(frame({}, "stop"))
    frames.append("data: " + dump({**chunk, "choices": [], "usage": usage}) + "\n\n")
    frames.append("data: [DONE]\n\n")
    return dump(completion) + "\n", "".join(frames)


def anthropic() -> tuple[str, str]:
    usage = {
        "input_tokens": PROMPT_TOKENS - 128,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 128,
        "output_tokens": COMPLETION_TOKENS,
        "service_tier": "standard",
    }
    message = {
        "id": "msg_01BENCHa1b2c3d4e5f6g7h8i9",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": TEXT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }

    def event(name: str, data: dict[str, object]) -> str:
        return f"event: {name}\ndata: " + dump({"type": name, **data}) + "\n\n"

    head = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    frames = [
        event("message_start", {"message": head}),
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        event("ping", {}),
    ]
    frames += [
        event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": p}})
        for p in PIECES
    ]
    final = {k: v for k, v in usage.items() if k != "service_tier"}
    frames += [
        event("content_block_stop", {"index": 0}),
        event(
            "message_delta",
            {"delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": final},
        ),
        event("message_stop", {}),
    ]
    return dump(message) + "\n", "".join(frames)


def gemini() -> tuple[str, str]:
    def usage(candidates: int) -> dict[str, object]:
        return {
            "promptTokenCount": PROMPT_TOKENS,
            "candidatesTokenCount": candidates,
            "totalTokenCount": PROMPT_TOKENS + candidates,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": PROMPT_TOKENS}],
        }

    def response(text: str, finish: str | None, candidates: int) -> dict[str, object]:
        candidate: dict[str, object] = {
            "content": {"role": "model", "parts": [{"text": text}]},
            "index": 0,
        }
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": usage(candidates),
            "modelVersion": "gemini-2.5-flash",
            "responseId": "BENCHx9y8z7w6v5u4t3s2r1",
        }

    frames = [
        "data: " + dump(response(p, "STOP" if i == CHUNKS - 1 else None, i + 1)) + "\r\n\r\n"
        for i, p in enumerate(PIECES)
    ]
    return dump(response(TEXT, "STOP", COMPLETION_TOKENS)) + "\n", "".join(frames)


def responses() -> tuple[str, str]:
    usage = {
        "input_tokens": PROMPT_TOKENS,
        "input_tokens_details": {"cached_tokens": 128},
        "output_tokens": COMPLETION_TOKENS,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }
    part = {"type": "output_text", "text": TEXT, "annotations": [], "logprobs": []}
    item_id = "msg_BENCHa1b2c3d4e5f6g7h8i9j0"
    item = {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }
    response = {
        "id": "resp_BENCHa1b2c3d4e5f6g7h8i9j0",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": 256,
        "model": "gpt-4o-mini-2024-07-18",
        "output": [item],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 0.2,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }
    seq = iter(range(10_000))

    def event(name: str, data: dict[str, object]) -> str:
        return (
            f"event: {name}\ndata: "
            + dump({"type": name, **data, "sequence_number": next(seq)})
            + "\n\n"
        )

    head = {**response, "status": "in_progress", "output": [], "usage": None}
    at = {"item_id": item_id, "output_index": 0, "content_index": 0}
    empty = {**part, "text": ""}
    frames = [
        event("response.created", {"response": head}),
        event("response.in_progress", {"response": head}),
        event(
            "response.output_item.added",
            {"output_index": 0, "item": {**item, "status": "in_progress", "content": []}},
        ),
        event("response.content_part.added", {**at, "part": empty}),
    ]
    frames += [
        event("response.output_text.delta", {**at, "delta": p, "logprobs": []}) for p in PIECES
    ]
    frames += [
        event("response.output_text.done", {**at, "text": TEXT, "logprobs": []}),
        event("response.content_part.done", {**at, "part": part}),
        event("response.output_item.done", {"output_index": 0, "item": item}),
        event("response.completed", {"response": response}),
    ]
    return dump(response) + "\n", "".join(frames)


def embeddings() -> str:
    """One unit-length vector of 1,536 floats (text-embedding-3-small's size)."""
    rng = random.Random(18)
    raw = [rng.gauss(0.0, 1.0) for _ in range(1536)]
    norm = sum(x * x for x in raw) ** 0.5
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [round(x / norm, 9) for x in raw]}
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 36, "total_tokens": 36},
    }
    return dump(body) + "\n"


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, (body, stream) in {
        "openai": openai(),
        "anthropic": anthropic(),
        "gemini": gemini(),
        "responses": responses(),
    }.items():
        (HERE / f"{name}.json").write_text(body)
        (HERE / f"{name}.sse").write_text(stream)
        print(f"{name}: {len(body.encode())} B json, {len(stream.encode())} B stream")
    body = embeddings()
    (HERE / "embeddings.json").write_text(body)
    print(f"embeddings: {len(body.encode())} B json")


if __name__ == "__main__":
    main()
