"""Local provider servers that speak each provider's real wire format.

Each mock is a Starlette app. It validates what the router sends (with the
official SDK packages' types where they have them), records every request,
and answers like the real API. A scenario is chosen by a directive in the
last user message, `mock:<scenario>` (e.g. `mock:tool_call`, `mock:error_429`),
so any model name works and tests read as what they do.
"""
