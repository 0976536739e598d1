from tests.sample_app.models import Base

from roadmap_shared.alembic_env import run_migrations


def _no_default_url() -> str:
    raise RuntimeError("the harness always passes sqlalchemy.url")


run_migrations(Base.metadata, default_url=_no_default_url)
