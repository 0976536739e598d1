"""Stage 3: Stripe payments, refunds and multi-tenant subscriptions."""
