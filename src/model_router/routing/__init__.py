"""Routing: deployments, retries, fallbacks, circuit breakers and `model: "auto"`."""
