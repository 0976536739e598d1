from roadmap_shared.alembic_env import run_migrations
from social.config import get_settings
from social.models import Base

run_migrations(Base.metadata, default_url=lambda: get_settings().database_url)
