from roadmap_shared.alembic_env import run_migrations
from shop.config import get_settings
from shop.models import Base

run_migrations(Base.metadata, default_url=lambda: get_settings().database_url)
