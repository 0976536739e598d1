"""What became of a request, as the contract and the metrics name it."""

from enum import StrEnum


class Outcome(StrEnum):
    CREATED = "created"  # done now
    EXISTS = "exists"  # done before: a retry, nothing moved this time
    REJECTED = "rejected"  # refused; nothing stored
