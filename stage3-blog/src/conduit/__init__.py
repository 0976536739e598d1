"""Stage 3: the RealWorld (Conduit) blog API with roles, caching and rate limits."""
