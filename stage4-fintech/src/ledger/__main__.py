"""`python -m ledger [--port N] [--reload]`: what `make run` starts. The HTTP API on the
port, and the gRPC API on `LEDGER_GRPC_PORT` in the same process (see `main.py`).

Checks the settings, PostgreSQL and the port first (see roadmap_shared.serve)."""

from roadmap_shared.serve import run_stage

if __name__ == "__main__":
    run_stage("ledger")
