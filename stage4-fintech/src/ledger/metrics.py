"""The ledger's business metrics, beside the HTTP ones of `roadmap_shared.metrics` and the
gRPC ones of `ledger.rpc.interceptor`. Alert rules and dashboards are written against
these names: rename one and they go blind."""

from prometheus_client import Counter, Gauge

TRANSFERS = Counter(
    "ledger_transfers",
    "Transfers by outcome: created, exists (a retry), rejected, posted, voided, expired",
    ["outcome"],
)
# Every outcome from the start, at 0: a rate over a series that does not exist yet is no
# rate at all, and an alert on it would stay silent until the first rejection.
for outcome in ("created", "exists", "rejected", "posted", "voided", "expired"):
    TRANSFERS.labels(outcome)
PENDING_TRANSFERS = Gauge("ledger_pending_transfers", "Pending transfers not yet finished")
IMBALANCE = Gauge(
    "ledger_imbalance",
    "Sum of all balances per currency, in minor units: anything but 0 is a broken ledger",
    ["currency"],
)
