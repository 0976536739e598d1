import socket

from roadmap_shared.serve import RequiredService, unreachable


def test_a_service_that_answers_is_not_reported() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        service = RequiredService("PostgreSQL", f"postgresql://x@127.0.0.1:{port}/db", "X", "pg")
        assert unreachable([service]) == []


def test_a_missing_service_gets_one_line_saying_how_to_start_it() -> None:
    service = RequiredService(
        "Redis", "redis://127.0.0.1:1/0", "AUTH_REDIS_URL", compose_service="redis"
    )
    [line] = unreachable([service])
    assert line == (
        "Redis is not reachable at 127.0.0.1:1. Start it with `docker compose up -d redis`, "
        "or set AUTH_REDIS_URL to the URL of a running Redis."
    )
