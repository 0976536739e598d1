"""The stage-1 book API: HTTP, JSON, REST, CRUD and validation on a JSON file."""
