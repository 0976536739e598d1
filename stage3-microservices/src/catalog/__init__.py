"""Stage 2: products, carts and orders on PostgreSQL with stock that never oversells."""
