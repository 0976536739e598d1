"""`python -m social [--port N] [--reload]`: what `make run` starts.

Checks the settings, PostgreSQL, Redis and the port first (see roadmap_shared.serve)."""

from roadmap_shared.serve import run_stage

if __name__ == "__main__":
    run_stage("social")
