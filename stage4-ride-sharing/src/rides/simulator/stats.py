"""What a simulation counts, and how it shows it: one status line while it runs, a summary
at the end."""

import time
from dataclasses import dataclass, field


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


@dataclass
class Stats:
    drivers: int
    started_at: float = field(default_factory=time.monotonic)
    requested: int = 0
    # Seconds from the rider's request to the driver's `assigned` frame, as clients see it.
    times_to_match: list[float] = field(default_factory=list)
    offers: int = 0
    declined: int = 0
    # Trips dispatch gave up on (nobody accepted, or nobody near).
    unmatched: int = 0
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    idle_drivers: set[int] = field(default_factory=set)

    @property
    def matches(self) -> int:
        return len(self.times_to_match)

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def line(self) -> str:
        elapsed = self.elapsed()
        return (
            f"{elapsed:5.1f} s | matches {self.matches} ({self.matches / elapsed:.2f}/s)"
            f" | to match p50 {_seconds(percentile(self.times_to_match, 50))}"
            f" p99 {_seconds(percentile(self.times_to_match, 99))}"
            f" | offers {self.offers}, declined {self.declined}"
            f" | idle drivers {len(self.idle_drivers)}/{self.drivers}"
        )

    def summary(self) -> str:
        return "\n".join(
            [
                f"simulated {self.elapsed():.1f} s with {self.drivers} drivers",
                f"  trips requested     {self.requested}",
                f"  matches             {self.matches} ({self.matches / self.elapsed():.2f}/s)",
                f"  time to match       p50 {_seconds(percentile(self.times_to_match, 50))},"
                f" p99 {_seconds(percentile(self.times_to_match, 99))}",
                f"  offers              {self.offers}, {self.declined} declined",
                f"  trips completed     {self.completed}",
                f"  nobody accepted     {self.unmatched}",
                f"  errors              {len(self.errors)}",
                *(f"    {error}" for error in self.errors[:10]),
            ]
        )
