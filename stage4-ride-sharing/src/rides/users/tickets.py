"""The socket ticket: a JWT of its own type, valid for a minute, for the driver's socket
and the rider's alike (each socket checks the account's role).

An access token would work on a socket too, but it lives an hour and the socket's first
message may be logged by a proxy; a ticket that cannot call the HTTP API (its `typ` differs)
and expires quickly limits what a leaked one is worth."""

SOCKET_TICKET_TYPE = "socket"
