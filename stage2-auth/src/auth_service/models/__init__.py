"""The tables of the auth service. Import models from here: `from auth_service.models import User`.

Importing this package registers every table on `Base.metadata`, which Alembic compares
with the database.
"""

from auth_service.models.base import Base
from auth_service.models.email import OutboxEmail
from auth_service.models.email_token import EmailToken, EmailTokenPurpose
from auth_service.models.session import LoginSession, RefreshToken, SessionEndReason
from auth_service.models.task import Tag, Task, TaskPriority, TaskStatus, task_tags
from auth_service.models.user import User, UserRole

__all__ = [
    "Base",
    "EmailToken",
    "EmailTokenPurpose",
    "LoginSession",
    "OutboxEmail",
    "RefreshToken",
    "SessionEndReason",
    "Tag",
    "Task",
    "TaskPriority",
    "TaskStatus",
    "User",
    "UserRole",
    "task_tags",
]
