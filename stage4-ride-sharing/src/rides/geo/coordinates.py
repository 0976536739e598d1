"""Coordinates as every input takes them: a trip's pickup and dropoff, a driver's ping."""

from typing import Annotated

from pydantic import Field

# Redis GEO takes latitudes up to 85.05112878 only (the Web Mercator projection's limit):
# a point beyond could be neither recorded nor searched around, so it is refused at the
# edge with a 422, not by Redis with an error. A little inside that limit, because surge
# searches around the centre of the pickup's H3 cell, which may lie a few hundred metres
# further out than the pickup itself.
MAX_LATITUDE = 85.0

# Strict: JSON's `true` is not the number 1 (lax validation would read it as 1.0).
Latitude = Annotated[
    float, Field(ge=-MAX_LATITUDE, le=MAX_LATITUDE, strict=True, allow_inf_nan=False)
]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, allow_inf_nan=False)]
