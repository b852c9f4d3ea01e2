"""The metrics a finished call updates straight on prometheus-client's values
expose exactly what its own `inc` and `observe` would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from model_router.observability.metrics import _Observe


def test_a_direct_histogram_update_exposes_what_observe_would() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("latency", "h", ["model"], registry=theirs).labels("m")
    direct = _Observe(Histogram("latency", "h", ["model"], registry=ours).labels("m"))
    # On a bucket's bound, between bounds, past the last finite bound, and zero.
    for value in (0.0, 0.005, 0.0051, 0.1, 0.25, 3.0, 10.0, 11.0, 1e9):
        reference.observe(value)
        direct(value)
    assert _samples(ours) == _samples(theirs)


def _samples(registry: CollectorRegistry) -> list[str]:
    """The exposition's lines, less the series' creation times (two series, two times)."""
    return [
        line for line in generate_latest(registry).decode().splitlines() if "_created" not in line
    ]
