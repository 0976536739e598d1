from enum import StrEnum

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from orders.models.base import Base, IntegerIdMixin
from roadmap_shared.database import TimestampMixin


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class User(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    # Stored lower-cased (see accounts.service), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    # VARCHAR with a CHECK rather than a PostgreSQL ENUM type: adding a role later is a
    # constraint change, not an `ALTER TYPE` that cannot run inside a transaction.
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="role",
            native_enum=False,
            length=20,
            create_constraint=True,
            values_callable=lambda roles: [role.value for role in roles],
        ),
        default=Role.CUSTOMER,
    )
