"""Learned routing (issue 19): pools whose model is chosen per task class by a
Bayesian bandit over the router's own traffic and feedback.

- `features`: the task class of a `domain.Request` (cheap, no download).
- `pools`: the `pools:` section of the routing file.
- `policy`: Thompson sampling with exploration; exact choice probabilities.
- `signals`: implicit quality (errors, truncation, invalid JSON, regeneration).
- `learner`: the in-memory side the request path calls (no I/O).
- `plan`: the seam: a pool name in `model` -> a `Plan` and a `Decision`.
- `store`, `runtime`: the shared state in the database, written off the path.
- `report`: the per-class report with off-policy estimates of the savings.

docs/learned-routing.md explains the whole.
"""
