"""`python -m notifications [--port N]`: the consumer, with its health checks on the port.

Checks the settings, PostgreSQL, RabbitMQ and the port first (see roadmap_shared.serve)."""

from roadmap_shared.serve import run_stage

if __name__ == "__main__":
    run_stage("notifications")
