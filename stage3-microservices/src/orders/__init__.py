"""Stage 3: the orders service of the shop: accounts, carts, checkout across services."""
