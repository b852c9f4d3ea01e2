"""Google Gemini API (v1beta `generateContent`).

translate.py holds the pure request/response/error translation, stream.py the
streaming state machine, provider.py the HTTP calls.
"""

from model_router.providers.gemini.provider import GeminiProvider

__all__ = ["GeminiProvider"]
