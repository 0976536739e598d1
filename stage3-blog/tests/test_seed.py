"""The seed command: repeatable data, written quickly and completely."""

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from conduit.models import Article, Comment, Favorite, Follow, Tag, User
from conduit.seed import TABLES, AlreadySeeded, Sizes, build, seed
from roadmap_shared.testing import databases

SMALL = Sizes(users=20, articles=60)


def test_the_same_seed_makes_the_same_data() -> None:
    assert build(SMALL, "hash") == build(SMALL, "hash")
    assert build(SMALL, "hash", seed=1) != build(SMALL, "hash", seed=2)


def test_the_default_data_set_is_as_large_as_promised() -> None:
    data = build(Sizes(), "hash")

    assert len(data.users) == 200
    assert len(data.articles) == 5_000
    assert min(len(data.follows), len(data.favorites), len(data.comments)) > 1_000
    assert len({article["slug"] for article in data.articles}) == 5_000


@pytest.mark.slow
async def test_seeding_writes_every_table_and_refuses_to_seed_twice(
    alembic_ini: Path, scratch_database_url: str
) -> None:
    config = databases.alembic_config(alembic_ini, scratch_database_url)
    databases.run_alembic(config, "upgrade", "head")

    heard: list[str] = []
    data = await seed(scratch_database_url, SMALL, progress=heard.append)
    # `make seed` shows each table's count as it is written, not only at the end.
    assert heard == [f"  {name}: {len(getattr(data, name)):,}" for name in TABLES]
    with pytest.raises(AlreadySeeded):
        await seed(scratch_database_url, SMALL)
    await seed(scratch_database_url, SMALL, reset=True)

    engine = create_async_engine(scratch_database_url)
    async with engine.begin() as connection:
        for model, rows in [
            (User, data.users),
            (Tag, data.tags),
            (Article, data.articles),
            (Follow, data.follows),
            (Favorite, data.favorites),
            (Comment, data.comments),
        ]:
            assert await connection.scalar(select(func.count()).select_from(model)) == len(rows)
        # Ids continue after the seeded ones.
        new_tag = await connection.scalar(insert(Tag).values(name="new").returning(Tag.id))
        assert new_tag == len(data.tags) + 1
    await engine.dispose()
