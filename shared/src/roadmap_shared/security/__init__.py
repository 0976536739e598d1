"""Password hashing and signed tokens, shared by every stage that has users."""
