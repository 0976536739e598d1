from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import Base, IntegerIdMixin, TenantMixin, string_enum
from roadmap_shared.database import TimestampMixin


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def manages_billing(self) -> bool:
        """Owners and admins pay, refund and change the plan; members use what is paid for."""
        return self in (Role.OWNER, Role.ADMIN)


class Organization(IntegerIdMixin, TimestampMixin, Base):
    """A tenant. The registry of tenants is not itself behind row-level security: a row
    here holds no tenant data beyond a name, and is reached only through a membership."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(100))
    # The Stripe customer that pays for this organisation, created on its first payment.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)


class Membership(IntegerIdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(string_enum(Role, "membership_role"))
