"""The rate-limit policies, built from settings. The algorithm (GCRA, one Lua script in
Redis) lives in `roadmap_shared.ratelimit`; this stage decides what is limited and by what
key:

- writes: per user, so one account cannot flood the site whatever address it uses;
- login: per account (slows password guessing against one victim from many addresses)
  and per client address (slows one address trying many accounts);
- registration: per client address, since there is no user yet.
"""

from conduit.config import Settings
from roadmap_shared.ratelimit import RateLimit

MINUTE = 60
HOUR = 60 * MINUTE


def write_policy(settings: Settings) -> RateLimit:
    return RateLimit("writes", settings.writes_per_minute, MINUTE)


def login_account_policy(settings: Settings) -> RateLimit:
    return RateLimit("login-account", settings.logins_per_minute_per_account, MINUTE)


def login_address_policy(settings: Settings) -> RateLimit:
    return RateLimit("login-address", settings.logins_per_minute_per_address, MINUTE)


def registration_policy(settings: Settings) -> RateLimit:
    return RateLimit("registration", settings.registrations_per_hour_per_address, HOUR)
