"""The response cache: exact-match (`key`, `store`) and semantic (`semantic`),
put together on the request path by `service.ResponseCache`."""
