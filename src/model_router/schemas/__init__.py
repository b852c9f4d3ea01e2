"""Pydantic wire models: the OpenAI-compatible API and the analytics API."""
