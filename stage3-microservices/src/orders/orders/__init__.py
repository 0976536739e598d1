"""Orders: checkout, idempotency, and the status machine."""
