"""Emails to an organisation's owners: built from our rows (messages), sent by the worker's
jobs, which the outbox relays (jobs)."""
