"""nginx (the Debian package) in front of two instances, all on loopback, with the config
file docker compose uses: a trip requested through nginx reaches one instance, the driver's
socket, upgraded through nginx, is held by the other, and the dispatcher's offer crosses
over to it by Redis pub/sub."""

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.streams import TripRequests
from roadmap_shared.testing.private_servers import free_port, wait_until_listening
from roadmap_shared.testing.tools import required_program
from tests.factories import DROPOFF, PICKUP, signed_in, ticket, user_id
from tests.live import FRAME_SECONDS, receive

CONFIG = Path(__file__).parents[1] / "nginx.conf"
STOP_SECONDS = 10
# Which instance nginx chose, on every response (the handshake's 101 included): for the
# test only, since it tells clients the addresses behind the proxy.
UPSTREAM_HEADER = "X-Upstream"


def on_loopback(config: str, *, port: int, instances: list[str], directory: Path) -> str:
    """The compose config with loopback addresses, and everything nginx writes (pid, logs,
    buffered bodies) in `directory`, so it runs without touching the system's paths."""
    config, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", config)
    servers = "".join(f"server {address};\n" for address in instances)
    config, upstreams = re.subn(r"(upstream rides \{)[^}]*", rf"\1\n{servers}", config)
    assert (listens, upstreams) == (1, 1), "nginx.conf no longer has the expected shape"
    paths = "".join(
        f"{kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"pid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'};\n"
        + config.replace(
            "http {",
            f"http {{\naccess_log {directory / 'access.log'};\n{paths}"
            f"add_header {UPSTREAM_HEADER} $upstream_addr always;\n",
            1,
        )
    )


def nginx_binary() -> str:
    return required_program("nginx", install="apt-get install nginx")


@pytest.fixture
def balancer(server: str, instance_b: str, tmp_path: Path) -> Iterator[str]:
    """nginx on a free loopback port in front of `server` and `instance_b`; its address."""
    binary = nginx_binary()
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(
        on_loopback(
            CONFIG.read_text(), port=port, instances=[server, instance_b], directory=tmp_path
        )
    )
    command = [binary, "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")]
    subprocess.run([*command, "-t", "-q"], check=True, timeout=STOP_SECONDS)  # noqa: S603
    process = subprocess.Popen([*command, "-g", "daemon off;"])  # noqa: S603
    try:
        wait_until_listening(port, process)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)


async def test_an_offer_reaches_a_driver_whose_socket_nginx_gave_to_the_other_instance(
    *,
    balancer: str,
    server: str,
    instance_b: str,
    server_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> None:
    dispatcher = Dispatcher(
        settings=server_settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="apart",
    )
    async with AsyncClient(base_url=f"http://{balancer}") as through_nginx:
        driver = await signed_in(through_nginx, "driver")
        driver_id = await user_id(through_nginx, driver)
        issued = await ticket(through_nginx, driver)
        async with connect(f"ws://{balancer}/drivers/socket", open_timeout=FRAME_SECONDS) as ws:
            assert ws.response is not None  # the handshake's answer, once connected
            socket_on = ws.response.headers[UPSTREAM_HEADER]
            await ws.send(json.dumps({"type": "auth", "ticket": issued}))
            assert (await receive(ws))["type"] == "ready"
            await ws.send(json.dumps({"type": "ping", **PICKUP}))
            await ws.send(json.dumps({"type": "availability", "available": True}))
            await ws.send("{}")  # answered once the two frames above are handled
            assert (await receive(ws))["type"] == "error"

            rider = await signed_in(through_nginx, "rider")
            # Round robin: the next request goes to the other instance, but a request on the
            # same instance as the socket would prove nothing, so it is asked until it does.
            for _ in range(4):
                response = await through_nginx.post(
                    "/trips", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
                )
                if response.headers[UPSTREAM_HEADER] != socket_on:
                    break
                assert response.status_code == 201, response.text
                cancel = {"version": response.json()["version"], "reason": "wrong instance"}
                cancelled = await through_nginx.post(
                    f"/trips/{response.json()['id']}/cancel", json=cancel, headers=rider
                )
                assert cancelled.status_code == 200, cancelled.text
            assert response.status_code == 201, response.text
            assert {socket_on, response.headers[UPSTREAM_HEADER]} == {server, instance_b}
            trip_id = response.json()["id"]

            stop = asyncio.Event()
            dispatching = asyncio.create_task(dispatcher.run(stop))
            try:
                offer = await receive(ws)
                assert (offer["type"], offer["trip_id"]) == ("offer", trip_id)
                await ws.send(json.dumps({"type": "accept", "offer_id": offer["offer_id"]}))
                assert (await receive(ws))["type"] == "assigned"
            finally:
                stop.set()
                await asyncio.wait_for(dispatching, FRAME_SECONDS)

        seen = (await through_nginx.get(f"/trips/{trip_id}", headers=rider)).json()
        assert (seen["status"], seen["driver_id"]) == ("driver_assigned", driver_id)


def test_nginx_waits_longer_than_the_app_for_a_silent_socket() -> None:
    """Otherwise nginx would cut a quiet driver's socket before the app's heartbeat timeout,
    and the driver would not get the app's 4408 that tells it why."""
    timeout = re.search(r"proxy_read_timeout (\d+)s;", CONFIG.read_text())
    assert timeout is not None
    assert int(timeout.group(1)) > Settings.model_fields["heartbeat_timeout_seconds"].default
