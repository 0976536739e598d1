"""Minimal accounts: register, log in, and who am I (customers and admins)."""
