"""The audit service's business metrics, beside the HTTP ones of `roadmap_shared.metrics`."""

from prometheus_client import Counter

from audit.events import CONTRACTS

RECORDS_APPENDED = Counter(
    "audit_records_appended", "Records appended to the audit chain, by event type", ["event_type"]
)
# Every event type from the start, at 0: a rate needs a sample before the first event.
for event_type in CONTRACTS:
    RECORDS_APPENDED.labels(event_type)
