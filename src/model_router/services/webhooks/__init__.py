"""Webhooks (issue 6): subscriptions, signed events, durable background delivery.

signing.py        HMAC-SHA256 over "timestamp.body", and its headers
subscriptions.py  the admin operations: create, list, delete, deliveries, redeliver
dispatcher.py     emit() in memory; a writer stores deliveries; a sender delivers them
"""

from model_router.services.webhooks.dispatcher import EVENT_TYPES, Dispatcher
from model_router.services.webhooks.signing import sign, verify

__all__ = ["EVENT_TYPES", "Dispatcher", "sign", "verify"]
