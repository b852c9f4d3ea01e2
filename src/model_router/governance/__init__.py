"""Per-key governance: allowed models, rate limits, budgets (issue 6).

policy.py        pure rules: allowed-model patterns, budget periods, worst-case estimates
limits.py        the per-minute windows and the x-ratelimit-* headers
budgets.py       money in counter units, thresholds
store.py         the counter store Protocol and its in-process implementation
redis_store.py   the same operations as Lua scripts on Redis (shared by instances)
governor.py      admit() before the upstream call, settle() in CompletionService._record
"""
