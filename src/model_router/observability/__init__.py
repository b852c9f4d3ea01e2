"""Operations: metrics, per-request logs, tracing, lifecycle.

    operations.py  Operations: built in the app's lifespan; its listeners hang on the
                   request log, so everything per request is derived from the one row
                   each call ends as. Tracing is imported only when an OTLP endpoint is set.
    metrics.py     Prometheus metrics (multi-process under `serve --workers N`)
    logs.py        the per-request log line and the logging set-up (text or JSON)
    tracing.py     OpenTelemetry spans: one per request, one per upstream attempt
    lifecycle.py   waiting for the database, draining on SIGTERM, configuration errors

This package's __init__ imports nothing: `serve` workers import logs.py before
they answer uvicorn's health check, and that must stay cheap.
"""
