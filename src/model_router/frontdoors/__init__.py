"""Inbound APIs, one module each: pure translation between a wire format and
the neutral core (`model_router.domain`), the mirror image of `providers/`.

- `base`: the `Door` protocol every front door implements.
- `openai_chat` (with `openai_chat_translate`): Chat Completions, `POST /v1/chat/completions`.
- `anthropic_messages`: Anthropic's Messages API (`POST /v1/messages`) and its
  count_tokens estimate; `anthropic_render` and `anthropic_stream` render its
  answers, whole and streamed.
- `openai_responses`: OpenAI's Responses API (`POST /v1/responses`) and the
  conversation of a `previous_response_id`; `responses_render` and
  `responses_stream` render its answers, whole and streamed.
- `openai_embeddings`: OpenAI's embeddings API (`POST /v1/embeddings`), to and
  from the neutral `EmbeddingRequest`/`Embeddings` (not a `Door`: no
  completion, no stream).
"""
