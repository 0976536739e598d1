"""The notifications service: turns the shop's events into emails.

It has no HTTP API beyond its health checks, and no table any other service reads. It
consumes `order.placed` (the customer's order confirmation) and `stock.low` (an alert to
the admins) from RabbitMQ, each exactly once in effect: the message ids it has handled
and the emails it has sent are in its own database.
"""
