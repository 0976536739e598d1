"""Background work: the outbox, the relay that publishes it, and the jobs the worker runs."""
