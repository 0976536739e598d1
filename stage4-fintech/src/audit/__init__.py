"""The audit service: an append-only, hash-chained record of every payment event.

It consumes the payments service's events from RabbitMQ and appends one record per event
to a chain in its own database: each record carries the SHA-256 hash of the one before,
so editing, deleting or reordering any record breaks every hash after it, and
`python -m audit verify` says where. It has no HTTP API beyond its health checks and
metrics, and keeps no personal data: the events carry ids, never names or addresses.
"""
