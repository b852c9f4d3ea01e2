"""model-router: an OpenAI-compatible LLM gateway."""
