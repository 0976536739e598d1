"""The trip's state machine: which status may follow which, and who may move it.

```
requested -> driver_assigned -> arriving -> in_progress -> completed
    \\______________\\______________\\-> cancelled (by the rider, the driver or dispatch)
```
"""

from rides.models import CancelledBy, TripStatus

NEXT: dict[TripStatus, frozenset[TripStatus]] = {
    TripStatus.REQUESTED: frozenset({TripStatus.DRIVER_ASSIGNED, TripStatus.CANCELLED}),
    TripStatus.DRIVER_ASSIGNED: frozenset({TripStatus.ARRIVING, TripStatus.CANCELLED}),
    TripStatus.ARRIVING: frozenset({TripStatus.IN_PROGRESS, TripStatus.CANCELLED}),
    TripStatus.IN_PROGRESS: frozenset({TripStatus.COMPLETED}),
    TripStatus.COMPLETED: frozenset(),
    TripStatus.CANCELLED: frozenset(),
}

# The moves a driver makes on their own trip (assignment is an offer's acceptance).
DRIVER_MOVES = frozenset({TripStatus.ARRIVING, TripStatus.IN_PROGRESS, TripStatus.COMPLETED})

# Who may cancel, from which status. A rider in the car cannot cancel; the trip completes.
MAY_CANCEL: dict[CancelledBy, frozenset[TripStatus]] = {
    CancelledBy.RIDER: frozenset(
        {TripStatus.REQUESTED, TripStatus.DRIVER_ASSIGNED, TripStatus.ARRIVING}
    ),
    CancelledBy.DRIVER: frozenset({TripStatus.DRIVER_ASSIGNED, TripStatus.ARRIVING}),
    CancelledBy.DISPATCH: frozenset({TripStatus.REQUESTED}),
}


def may_follow(current: TripStatus, target: TripStatus) -> bool:
    return target in NEXT[current]


def sources_of(target: TripStatus) -> frozenset[TripStatus]:
    """Every status `target` may follow."""
    return frozenset(status for status, after in NEXT.items() if target in after)
