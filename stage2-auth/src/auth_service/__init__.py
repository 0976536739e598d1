"""Stage 2: user authentication with JWT, refresh-token rotation, roles and user-owned tasks."""
