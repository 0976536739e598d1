"""Payments by outcome and reviews overdue, beside the HTTP metrics of
`roadmap_shared.metrics`. Alert rules and dashboards are written against these names:
rename one and they go blind."""

from prometheus_client import Counter, Gauge

PAYMENTS = Counter(
    "payments",
    "Payments by outcome: completed, held (for review), rejected (ledger or reviewer)",
    ["outcome"],
)
# Every outcome from the start, at 0: a rate over a series that does not exist yet is no
# rate at all.
for outcome in ("completed", "held", "rejected"):
    PAYMENTS.labels(outcome)

# Set by the reconciler's passes (payments.reconcile), in the worker.
REVIEWS_OVERDUE = Gauge(
    "payments_reviews_overdue",
    "Payments held for review for longer than PAYMENTS_RECONCILE_AFTER_SECONDS",
)
