"""The worker's gauges, set by the reconciler's passes (payments.reconcile) and served on
the worker's own port (`PAYMENTS_WORKER_METRICS_PORT`).

A module of their own, which the API never imports: a gauge registered in the API would
be served by its `/metrics` too, reading 0 forever beside the worker's true value."""

from prometheus_client import Gauge

REVIEWS_OVERDUE = Gauge(
    "payments_reviews_overdue",
    "Payments held for review for longer than PAYMENTS_RECONCILE_AFTER_SECONDS",
)
# Counted here rather than by the relay: the relay runs in this process, and a backlog that
# grows while it runs says that it publishes nothing (the OutboxLag alert).
OUTBOX_UNPUBLISHED = Gauge(
    "outbox_unpublished_events",
    "Outbox events not yet confirmed by RabbitMQ",
)
