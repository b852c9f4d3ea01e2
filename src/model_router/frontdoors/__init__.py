"""Inbound APIs, one module each: pure translation between a wire format and
the neutral core (`model_router.domain`), the mirror image of `providers/`.

- `base`: the `Door` protocol every front door implements.
- `openai_chat` (with `openai_chat_translate`): Chat Completions, `POST /v1/chat/completions`.
"""
