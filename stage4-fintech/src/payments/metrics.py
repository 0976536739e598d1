"""Payments by outcome, beside the HTTP metrics of `roadmap_shared.metrics` (the worker's
gauges are in `payments.worker_metrics`). Alert rules and dashboards are written against
these names: rename one and they go blind."""

from prometheus_client import Counter

PAYMENTS = Counter(
    "payments",
    "Payments by outcome: completed, held (for review), rejected (ledger or reviewer)",
    ["outcome"],
)
# Every outcome from the start, at 0: a rate over a series that does not exist yet is no
# rate at all.
for outcome in ("completed", "held", "rejected"):
    PAYMENTS.labels(outcome)
