"""Prices and costs: exact `Decimal` arithmetic, never floats."""
