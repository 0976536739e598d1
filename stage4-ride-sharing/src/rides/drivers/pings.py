"""A ping, checked and recorded by one script: one round trip to Redis, no PostgreSQL.

A driver pings every few seconds, and a ping used to cost four round trips and a
PostgreSQL transaction (the last position, the write, the driver's trip). The script reads
the last position and its time, refuses a jump no car could make, and otherwise writes the
position, its time, and (when the driver has a trip, `rides.trips.history`) the ping into
the trip's history. Checked and written in one step, two pings of the same driver handled
at once (two sockets, two instances) are each checked against the position the other left.

The distance is the haversine of `rides.geo.distance`, written again in Lua: Redis offers
`GEODIST` only between two members of a key, and the new position is not one yet. Redis
stores positions to about half a metre, so a few metres of GPS jitter between two pings a
moment apart is not a car at 1,000 km/h: jumps under `JITTER_KM` always pass.
"""

import json

from redis.asyncio import Redis

from rides.geo.distance import EARTH_RADIUS_KM
from rides.geo.index import GeoIndex
from rides.trips import history

JITTER_KM = 0.05
IMPLAUSIBLE = -1

# KEYS: positions, located (when each position was sent), seen, the driver's trip pointer.
# ARGV: driver id, lng, lat, now, max km/h, Earth's radius, jitter km, the history entry,
# the history's key (a `%s` for the trip id), how long it is kept.
# Returns IMPLAUSIBLE, or the driver's trip id (0 without a trip).
RECORD = """
local driver, lng, lat, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local last = redis.call('GEOPOS', KEYS[1], driver)[1]
local sent = redis.call('ZSCORE', KEYS[2], driver)
if last and sent then
    local rad = math.pi / 180
    local dphi, dlambda = (lat - tonumber(last[2])) * rad, (lng - tonumber(last[1])) * rad
    local a = math.sin(dphi / 2) ^ 2
        + math.cos(tonumber(last[2]) * rad) * math.cos(lat * rad) * math.sin(dlambda / 2) ^ 2
    local km = 2 * tonumber(ARGV[6]) * math.asin(math.sqrt(a))
    local hours = math.max(now - tonumber(sent), 0) / 3600
    if km > tonumber(ARGV[7]) and km > tonumber(ARGV[5]) * hours then
        return -1
    end
end
redis.call('GEOADD', KEYS[1], lng, lat, driver)
redis.call('ZADD', KEYS[2], now, driver)
redis.call('ZADD', KEYS[3], now, driver)
local trip = redis.call('GET', KEYS[4])
if not trip then
    return 0
end
local pings = string.format(ARGV[9], trip)
redis.call('RPUSH', pings, ARGV[8])
redis.call('EXPIRE', pings, ARGV[10])
return tonumber(trip)
"""


class Pings:
    def __init__(self, redis: Redis, geo: GeoIndex, *, max_speed_kmh: float) -> None:
        self._record = redis.register_script(RECORD)
        self._geo = geo
        self._max_speed_kmh = max_speed_kmh

    async def record(self, driver_id: int, lat: float, lng: float, at: float) -> int | None:
        """The driver's trip id (0 without a trip) once the ping is recorded; None if it
        was refused as implausible, and then nothing was written."""
        positions, located, seen = self._geo.keys
        trip: int = await self._record(
            keys=[positions, located, seen, history.driver_trip_key(driver_id)],
            args=[
                driver_id,
                lng,
                lat,
                at,
                self._max_speed_kmh,
                EARTH_RADIUS_KM,
                JITTER_KM,
                json.dumps([lat, lng, at]),
                history.PINGS_KEY,
                history.KEEP_SECONDS,
            ],
        )
        return None if trip == IMPLAUSIBLE else trip
