"""The Prometheus metric families (no FastAPI here: the worker and services may count too).

Other parts increment them, e.g. ``THROTTLES.labels("login").inc()`` when a
rate limit refuses a request. ``/metrics`` (``scelle.server.metrics``) exposes them.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["BYTES_IN", "BYTES_OUT", "PURGES", "REQUESTS", "REQUEST_SECONDS", "THROTTLES"]

REQUESTS = Counter("scelle_requests_total", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "scelle_request_duration_seconds", "Time to answer a request", ["method", "route"]
)
BYTES_IN = Counter("scelle_bytes_in_total", "Request body bytes received")
BYTES_OUT = Counter("scelle_bytes_out_total", "Response body bytes sent")
PURGES = Counter("scelle_purges_total", "Transfers purged (ciphertext deleted)")
THROTTLES = Counter("scelle_throttles_total", "Requests refused by a rate limit", ["limit"])
