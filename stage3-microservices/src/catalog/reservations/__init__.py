"""Stock held for checkouts in the orders service: reserve, confirm, release, expire."""
