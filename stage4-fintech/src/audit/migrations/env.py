from audit.config import get_settings
from audit.models import Base
from roadmap_shared.alembic_env import run_migrations

run_migrations(Base.metadata, default_url=lambda: get_settings().database_url)
