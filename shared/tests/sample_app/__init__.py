"""A tiny app with one table, used to test the harness itself."""
