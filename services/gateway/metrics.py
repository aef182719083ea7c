"""The gateway's Prometheus metrics: requests and their duration by route template,
method and status; never a path, which carries emails, phones and names."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.gateway.request_log import NO_ROUTE

HTTP_REQUESTS = Counter(
    "crm_gateway_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "crm_gateway_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template, method "
    "and status; a live timeline counts when it ends.",
    ["route", "method", "status"],
)
# Requests for no route are counted under this one label, never under their path.
UNMATCHED = "unmatched"
# Anything else a client sends as a method counts as one, so clients cannot make series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    labels = {
        "route": UNMATCHED if route == NO_ROUTE else route,
        "method": method if method in METHODS else "OTHER",
        "status": str(status),
    }
    HTTP_REQUESTS.labels(**labels).inc()
    HTTP_DURATION.labels(**labels).observe(seconds)
