"""`make fuzz`: schemathesis against every stage's OpenAPI document, on real servers.

Usage: python scripts/fuzz.py [STAGE ...]   (default: every stage below)

Per stage: a fresh PostgreSQL database migrated to head, the stage served by uvicorn on a
free loopback port (a stage that pays talks to the shared Stripe double, never to Stripe),
an ordinary user and a privileged one signed up through the API (an admin, promoted in SQL
as the seeds say to make a first admin; for billing, the owner of an organisation), then
`schemathesis run` with every check three times: anonymous, as the user, as the privileged
user. A request the document allows must succeed, except where a stage lists a business
rule no schema can state (each with its reason, in STAGES below) for the operation. Each
run is bounded by FUZZ_MAX_EXAMPLES (per operation) and FUZZ_MAX_SECONDS, and its cases
follow from FUZZ_SEED (1), so a failure can be replayed and other seeds explore further.
The last lines are a table of operations, cases and failures per stage and caller; the
exit status is non-zero if any run failed. Not part of `make test`: it takes minutes.

Services: TEST_POSTGRES_URL (the server the throwaway databases are created on) and
TEST_REDIS_URL, plus FUZZ_REDIS_DB (default 15), the Redis logical database to use.
"""

import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import stripe

from roadmap_shared.testing.stripe_double import StripeDouble

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".fuzz-results"  # schemathesis's output and events, per stage and caller
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_DB = os.environ.get("FUZZ_REDIS_DB", "15")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "10")
MAX_SECONDS = os.environ.get("FUZZ_MAX_SECONDS", "10")
# The same seed generates the same cases: a failure found with one can be replayed.
SEED = os.environ.get("FUZZ_SEED", "1")
# Generous: on a busy machine (a shared CI runner) importing the app alone can take 30 s.
STARTUP_SECONDS = 120
# Generous enough that no limit is reached by the fuzzer: every limit is a setting.
UNLIMITED = "1000000"
PASSWORD = "a fuzzing passphrase, long enough"  # noqa: S105 (a throwaway account's)


# What `positive_data_acceptance` expects of a request the schema allows, by default.
ACCEPTED = ["2xx", "3xx", 401, 403, 404, 409, 429, "5xx"]


def _promote_to_admin(_: httpx.Client, email: str, database_url: str) -> None:
    asyncio.run(
        _execute("UPDATE users SET role = 'admin' WHERE email = $1", email, url=database_url)
    )


@dataclass(frozen=True)
class Stage:
    folder: str
    module: str
    env_prefix: str
    # Business rules no JSON Schema can state, so a request the document allows may still
    # break them: operation -> the statuses it then answers (each documented, with why).
    # Everything else a schema-valid request gets must be a success.
    business_rules: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Runs get FUZZ_MAX_SECONDS times this: some documents are slower to generate data for.
    time_factor: int = 1
    # Signs up `email` and returns the `Authorization` header value; None: no accounts.
    sign_up: Callable[[httpx.Client, str], None] | None = None
    log_in: Callable[[httpx.Client, str], str] | None = None
    needs_database: bool = True
    settings: dict[str, str] = field(default_factory=dict)
    # The third caller, and how an account becomes it: (client, email, database URL).
    privileged: str = "admin"
    make_privileged: Callable[[httpx.Client, str, str], None] = _promote_to_admin
    # Served the shared Stripe double at `{env_prefix}STRIPE_API_BASE`: no call leaves the
    # machine, and every payment the fuzzer starts is a real object at the double.
    needs_stripe: bool = False
    # What the operator makes at Stripe before the stage can sell (its Prices), made at the
    # double; returns the settings that name them.
    stripe_setup: Callable[[str], dict[str, str]] | None = None


def _bearer_login(client: httpx.Client, email: str) -> str:
    response = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return f"Bearer {response.json()['access_token']}"


def _conduit_login(client: httpx.Client, email: str) -> str:
    body = {"user": {"email": email, "password": PASSWORD}}
    response = client.post("/api/users/login", json=body)
    response.raise_for_status()
    return f"Token {response.json()['user']['token']}"


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    client.post(path, json=body).raise_for_status()


def _billing_login(client: httpx.Client, email: str) -> str:
    response = client.post("/users/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return f"Bearer {response.json()['access_token']}"


def _billing_owner(client: httpx.Client, email: str, _: str) -> None:
    """Makes the account the owner of an organisation of its own."""
    headers = {"Authorization": _billing_login(client, email)}
    client.post("/organizations", json={"name": "Fuzz"}, headers=headers).raise_for_status()


def _billing_plan_prices(stripe_api: str) -> dict[str, str]:
    """The plans' Prices, made at the double as an operator makes them in the dashboard."""
    client = stripe.StripeClient("sk_test_fuzz", base_addresses={"api": stripe_api})
    prices = {
        f"{plan}_{interval}": client.v1.prices.create(
            {
                "currency": "eur",
                "unit_amount": 1_000,
                "recurring": {"interval": interval},
                "product_data": {"name": plan},
            }
        ).id
        for plan in ("pro", "team")
        for interval in ("month", "year")
    }
    return {"PAYMENTS_PLAN_PRICES": json.dumps(prices)}


def _rides_driver(_: httpx.Client, email: str, database_url: str) -> None:
    """A rider made a driver: an account's role is chosen once, at sign-up, and every
    caller here signs up the same way."""
    asyncio.run(
        _execute("UPDATE users SET role = 'driver' WHERE email = $1", email, url=database_url)
    )


def _social_sign_up(client: httpx.Client, email: str) -> None:
    """A username from the address's local part (letters, digits and underscores only)."""
    username = email.partition("@")[0].replace("-", "_")
    body = {"username": username, "email": email, "display_name": "Fuzz", "password": PASSWORD}
    _post(client, "/api/users", body)


def _social_login(client: httpx.Client, email: str) -> str:
    response = client.post("/api/users/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return f"Bearer {response.json()['access_token']}"


def _social_large_account(_: httpx.Client, email: str, database_url: str) -> None:
    """An author with a large account's follower count: their posts are merged into
    timelines at read time instead of fanned out on write."""
    asyncio.run(
        _execute(
            "UPDATE users SET followers_count = 1000000 WHERE email = $1", email, url=database_url
        )
    )


STAGES = {
    stage.folder: stage
    for stage in [
        Stage(
            "stage1-http-server",
            "books_api",
            "BOOKS_",
            needs_database=False,
            business_rules={
                # Conditional writes: no If-Match is 428, a stale one 412.
                **dict.fromkeys(
                    ["PUT /books/{book_id}", "PATCH /books/{book_id}", "DELETE /books/{book_id}"],
                    (412, 422, 428),
                ),
                # A year is at most next year: a bound that moves with the calendar.
                "POST /books": (422,),
                # year_from must not be after year_to: a rule across two parameters.
                "GET /books": (422,),
            },
        ),
        Stage(
            "stage2-auth",
            "auth_service",
            "AUTH_",
            sign_up=lambda c, email: _post(
                c,
                "/auth/register",
                {"email": email, "password": PASSWORD, "display_name": email.split("@")[0]},
            ),
            log_in=_bearer_login,
            business_rules={
                # An address at a special-use or reserved domain (`.local`, `.invalid`...):
                # format "email" allows it; email-validator, which decides, does not.
                "POST /auth/login": (422,),
                "POST /auth/password-reset": (422,),
                # That, and the password policy (its length is a setting, and known-breached
                # passwords).
                "POST /auth/register": (422,),
                # A token that is unknown, used or expired; a wrong current password.
                "POST /auth/password-reset/confirm": (400, 422),
                "POST /auth/verify-email/confirm": (400,),
                "POST /auth/change-password": (400, 422),
            },
            settings={
                f"AUTH_{name}": UNLIMITED
                for name in (
                    "LOGIN_ATTEMPTS_PER_ACCOUNT",
                    "LOGIN_ATTEMPTS_PER_ADDRESS",
                    "REGISTRATIONS_PER_ADDRESS",
                    "EMAILS_PER_ACCOUNT",
                    "RESET_REQUESTS_PER_ADDRESS",
                )
            },
        ),
        Stage(
            "stage2-ecommerce",
            "shop",
            "SHOP_",
            sign_up=lambda c, email: _post(
                c, "/auth/register", {"email": email, "name": "Fuzz", "password": PASSWORD}
            ),
            log_in=_bearer_login,
            business_rules={
                # An address at a special-use or reserved domain (`.test`, `.invalid`...):
                # format "email" allows it; email-validator, which decides, does not. The
                # field's description says so; no JSON Schema keyword can.
                "POST /auth/register": (422,),
                "POST /auth/login": (422,),
                # min_price <= max_price, and sort=relevance needs q: rules across parameters.
                "GET /products": (422,),
                # A parent or category id that names no category; a stock change of zero.
                "POST /admin/categories": (422,),
                "PATCH /admin/categories/{category_id}": (422,),
                "POST /admin/products": (422,),
                "PATCH /admin/products/{product_id}": (422,),
                "POST /admin/variants/{variant_id}/stock-adjustments": (422,),
                # The image's type (415 unless JPEG, PNG or WebP) and its pixels (422 when
                # too small, too large or corrupt) are read from its bytes, which the
                # document can only call binary.
                "POST /admin/product-images": (415, 422),
            },
            settings={"SHOP_LOGIN_ATTEMPTS_PER_MINUTE": UNLIMITED},
        ),
        Stage(
            "stage3-blog",
            "conduit",
            "BLOG_",
            sign_up=lambda c, email: _post(
                c,
                "/api/users",
                {"user": {"username": email.split("@")[0], "email": email, "password": PASSWORD}},
            ),
            log_in=_conduit_login,
            # Article bodies (up to 100,000 NUL-free characters) are slow to generate: with
            # the common budget, the fuzzing phase would hardly start.
            time_factor=3,
            business_rules={
                # An address at a special-use or reserved domain (`.test`, `.local`...):
                # format "email" allows it; email-validator, which decides, does not.
                "POST /api/users": (422,),
                "PUT /api/user": (422,),
            },
            settings={
                f"BLOG_{name}": UNLIMITED
                for name in (
                    "WRITES_PER_MINUTE",
                    "LOGINS_PER_MINUTE_PER_ACCOUNT",
                    "LOGINS_PER_MINUTE_PER_ADDRESS",
                    "REGISTRATIONS_PER_HOUR_PER_ADDRESS",
                )
            },
        ),
        Stage(
            "stage3-payments",
            "billing",
            "PAYMENTS_",
            sign_up=lambda c, email: _post(
                c, "/users", {"email": email, "name": "Fuzz", "password": PASSWORD}
            ),
            log_in=_billing_login,
            privileged="owner",
            make_privileged=_billing_owner,
            needs_stripe=True,
            stripe_setup=_billing_plan_prices,
            business_rules={
                # An address at a special-use or reserved domain (`.test`, `.invalid`...):
                # format "email" allows it; email-validator, which decides, does not.
                "POST /users": (422,),
                "POST /users/login": (422,),
                # A member is named by an address, which the same rule applies to.
                "POST /organizations/{organization_id}/members": (422,),
                # Stripe's signature over the raw body: no schema can state it.
                "POST /webhooks/stripe": (400,),
                # Seats are the team plan's alone; the schema lets any plan name them.
                "POST /organizations/{organization_id}/subscription/checkout": (422,),
                # A change names at least one of plan, interval, seats: each may be null.
                "PATCH /organizations/{organization_id}/subscription": (422,),
            },
            settings={
                "PAYMENTS_LOGINS_PER_MINUTE_PER_ADDRESS": UNLIMITED,
                # A key of a test account's shape: the double accepts it, as Stripe would.
                "PAYMENTS_STRIPE_API_KEY": "sk_test_fuzz",
            },
        ),
        Stage(
            "stage4-ride-sharing",
            "rides",
            "RIDES_",
            sign_up=lambda c, email: _post(
                c,
                "/users",
                {"email": email, "name": "Fuzz", "password": PASSWORD, "role": "rider"},
            ),
            log_in=_billing_login,
            privileged="driver",
            make_privileged=_rides_driver,
            business_rules={
                # An address at a special-use or reserved domain (`.test`, `.invalid`...):
                # format "email" allows it; email-validator, which decides, does not.
                "POST /users": (422,),
                "POST /users/login": (422,),
            },
            settings={"RIDES_LOGINS_PER_MINUTE_PER_ADDRESS": UNLIMITED},
        ),
        Stage(
            "stage4-social",
            "social",
            "SOCIAL_",
            sign_up=_social_sign_up,
            log_in=_social_login,
            privileged="celebrity",
            make_privileged=_social_large_account,
            business_rules={
                # An address at a special-use or reserved domain (`.test`, `.invalid`...):
                # format "email" allows it; email-validator, which decides, does not.
                "POST /api/users": (422,),
                "POST /api/users/login": (422,),
                # The caller's own username: nobody follows, blocks or mutes themselves.
                **{
                    f"{method} /api/profiles/{{username}}/{action}": (422,)
                    for method in ("PUT", "DELETE")
                    for action in ("follow", "block", "mute")
                },
                # A cursor the API did not make (any string is schema-valid): 400.
                "GET /api/timeline": (400,),
                "GET /api/posts/{post_id}/comments": (400,),
                "GET /api/profiles/{username}/followers": (400,),
                "GET /api/profiles/{username}/following": (400,),
            },
            settings={"SOCIAL_LOGINS_PER_MINUTE_PER_ADDRESS": UNLIMITED},
        ),
    ]
}


@dataclass
class Result:
    stage: str
    caller: str
    operations: int = 0
    cases: int = 0
    failures: int = 0
    exit_code: int = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def package_of(folder: str) -> str:
    name: str = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]["name"]
    return name


def uv_run(folder: str, *args: str) -> list[str]:
    return [os.environ.get("UV", "uv"), "run", "--locked", "--package", package_of(folder), *args]


async def _execute(sql: str, *args: str, url: str = POSTGRES) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


@contextmanager
def throwaway_database(stage: Stage) -> Iterator[str | None]:
    """A database name nobody else uses, dropped afterwards; None if none is needed."""
    if not stage.needs_database:
        yield None
        return
    name = f"fuzz_{stage.module}_{secrets.token_hex(4)}"
    asyncio.run(_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def stripe_for(stage: Stage) -> Iterator[str | None]:
    """The address of a Stripe double of the run's own; None if the stage pays nothing."""
    if not stage.needs_stripe:
        yield None
        return
    with StripeDouble() as double:
        yield double.base_url


def stage_environment(stage: Stage, database: str | None, workdir: Path) -> dict[str, str]:
    p = stage.env_prefix
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    env = {
        **os.environ,
        f"{p}LOG_LEVEL": "WARNING",
        f"{p}REDIS_URL": f"{REDIS}/{REDIS_DB}",
        # Files a stage writes (the book store, media, mail) go to a throwaway folder.
        f"{p}DATA_FILE": str(workdir / "books.json"),
        f"{p}MEDIA_DIR": str(workdir / "media"),
        f"{p}MAIL_DIR": str(workdir / "mail"),
        **stage.settings,
    }
    if database is not None:
        env[f"{p}DATABASE_URL"] = f"{base}/{database}"
    return env


@contextmanager
def running(stage: Stage, env: dict[str, str], log: Path) -> Iterator[str]:
    folder = ROOT / stage.folder
    if stage.needs_database:
        migrate = uv_run(
            stage.folder, "python", "-m", "roadmap_shared.upgrade_database", stage.module
        )
        subprocess.run(migrate, cwd=folder, env=env, check=True, capture_output=True)  # noqa: S603
    port = free_port()
    command = uv_run(
        stage.folder,
        *("python", "-m", "uvicorn", f"{stage.module}.main:create_app", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
    )
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=folder, env=env, stdout=output, stderr=output)  # noqa: S603
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base_url, server)
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {STARTUP_SECONDS} s")


def callers(stage: Stage, base_url: str, env: dict[str, str]) -> dict[str, str | None]:
    """The `Authorization` header of each caller: anonymous, an ordinary user, a
    privileged one."""
    if stage.sign_up is None or stage.log_in is None:
        return {"anonymous": None}
    user, privileged = (
        f"fuzz-{role}-{secrets.token_hex(3)}@example.com" for role in ("user", stage.privileged)
    )
    with httpx.Client(base_url=base_url, timeout=10) as client:
        stage.sign_up(client, user)
        stage.sign_up(client, privileged)
        database_url = env[f"{stage.env_prefix}DATABASE_URL"].replace("+asyncpg", "")
        stage.make_privileged(client, privileged, database_url)
        return {
            "anonymous": None,
            "user": stage.log_in(client, user),
            stage.privileged: stage.log_in(client, privileged),
        }


def schemathesis_config(stage: Stage, workdir: Path) -> Path:
    """A schemathesis.toml that accepts each business rule's statuses for its operation."""
    # The anonymous caller stays anonymous: left to itself, schemathesis signs an account
    # up through any `POST /users` it recognises (and fails on a body it cannot build).
    blocks = ["[auth]\nauto-signup = false\n"]
    for operation, statuses in stage.business_rules.items():
        expected = json.dumps([*ACCEPTED, *statuses])  # a JSON array is a TOML array
        blocks.append(
            f"[[operations]]\ninclude-name = {json.dumps(operation)}\n"
            f"checks.positive_data_acceptance.expected-statuses = {expected}\n"
        )
    config = workdir / "schemathesis.toml"
    config.write_text("\n".join(blocks))
    return config


def fuzz(stage: Stage, caller: str, header: str | None, base_url: str, workdir: Path) -> Result:
    report = RESULTS / f"{stage.folder}-{caller}.ndjson"
    command = [
        *("schemathesis", "--config-file", str(schemathesis_config(stage, workdir))),
        *("run", f"{base_url}/openapi.json", "--checks", "all"),
        *("--max-examples", MAX_EXAMPLES, "--seed", SEED),
        *("--max-time", str(int(MAX_SECONDS) * stage.time_factor)),
        *("--report", "ndjson", "--report-ndjson-path", str(report)),
        *("--suppress-health-check", "all", "--request-timeout", "10"),
    ]
    if header is not None:
        command += ["--header", f"Authorization: {header}"]
    runner = [os.environ.get("UV", "uv"), "run", "--locked", *command]
    completed = subprocess.run(  # noqa: S603 (our own command line)
        runner, check=False, cwd=ROOT, capture_output=True, text=True
    )
    result = Result(stage.folder, caller, exit_code=completed.returncode)
    _count(report, result)
    # The stream records only some cases; the summary line counts them all.
    if generated := re.search(r"(\d+) generated", completed.stdout):
        result.cases = int(generated.group(1))
    (RESULTS / f"{stage.folder}-{caller}.txt").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        print(completed.stdout[-20_000:], completed.stderr[-5_000:], sep="\n")
    return result


def _count(report: Path, result: Result) -> None:
    """Operations and failures from schemathesis's event stream (one JSON object a
    line: the operations in `LoadingFinished`, checks in `ScenarioFinished`)."""
    if not report.exists():
        return
    failures: set[tuple[str, str]] = set()
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if loaded := event.get("LoadingFinished"):
            result.operations = loaded["statistic"]["operations"]["selected"]
        recorder = event.get("ScenarioFinished", {}).get("recorder", {})
        for checks in recorder.get("checks", {}).values():
            failures.update(
                (recorder["label"], check["name"])
                for check in checks
                if check["status"] == "failure"
            )
    result.failures = len(failures)


def run_stage(stage: Stage) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{stage.folder}-") as directory:
        workdir = Path(directory)
        with throwaway_database(stage) as database, stripe_for(stage) as stripe_api:
            env = stage_environment(stage, database, workdir)
            if stripe_api is not None:
                env[f"{stage.env_prefix}STRIPE_API_BASE"] = stripe_api
                if stage.stripe_setup is not None:
                    env.update(stage.stripe_setup(stripe_api))
            log = workdir / "server.log"
            try:
                with running(stage, env, log) as base_url:
                    return [
                        fuzz(stage, caller, header, base_url, workdir)
                        for caller, header in callers(stage, base_url, env).items()
                    ]
            except Exception:
                print(log.read_text()[-5_000:] if log.exists() else "", file=sys.stderr)
                raise


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in STAGES]
    if unknown:
        print(f"unknown stage(s): {', '.join(unknown)}; known: {', '.join(STAGES)}")
        return 2
    RESULTS.mkdir(exist_ok=True)
    results = [result for name in argv or list(STAGES) for result in run_stage(STAGES[name])]
    print(f"\n{'stage':<20}{'caller':<11}{'operations':>11}{'cases':>8}{'failures':>10}")
    for r in results:
        print(f"{r.stage:<20}{r.caller:<11}{r.operations:>11}{r.cases:>8}{r.failures:>10}")
    # A run that generated nothing tested nothing: a failure too, not a pass.
    failed = [r for r in results if r.exit_code != 0 or r.failures or not r.cases]
    print(f"{len(results) - len(failed)} runs passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
