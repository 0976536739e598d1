"""The cart: one per user, a list of variants and quantities, priced at today's prices."""
