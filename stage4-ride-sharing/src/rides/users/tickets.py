"""The driver socket's ticket: a JWT of its own type, valid for a minute.

An access token would work on the socket too, but it lives an hour and the socket's first
message may be logged by a proxy; a ticket that cannot call the HTTP API (its `typ` differs)
and expires quickly limits what a leaked one is worth."""

SOCKET_TICKET_TYPE = "driver_socket"
