"""`python -m rides.simulate` (`make simulate`): a short run with a handful of drivers and
riders, against the API and a dispatcher it starts itself, matches trips and exits 0."""

import asyncio
import os
import re
import sys
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

# The run lasts a few seconds; starting the API and signing everyone up takes some more on
# a busy machine. Past this, the test fails instead of hanging.
DEADLINE_SECONDS = 180


async def test_a_short_simulation_matches_trips_and_exits_0(
    database_url: str,
    redis_url: str,
    redis_client: Redis,
    committed_session: AsyncSession,
    tmp_path: Path,
) -> None:
    environment = {
        **os.environ,
        "RIDES_ENVIRONMENT": "development",
        "RIDES_DATABASE_URL": database_url,
        "RIDES_REDIS_URL": redis_url,
    }
    arguments = ["--seconds", "8", "--drivers", "4", "--riders", "3", "--decline", "0.3"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rides.simulate",
        *arguments,
        "--seed",
        "1",
        env=environment,
        cwd=tmp_path,  # no developer's `.env` read
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), DEADLINE_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
    assert process.returncode == 0, text
    matches = re.search(r"^  matches\s+(\d+)", text, re.MULTILINE)
    assert matches is not None, text
    assert int(matches.group(1)) > 0, text
    assert re.search(r"^  errors\s+0$", text, re.MULTILINE), text
