from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roadmap_shared.database import TimestampMixin
from shop.models.base import Base
from shop.models.catalog import Variant

MAX_LINE_QUANTITY = 99


class CartItem(TimestampMixin, Base):
    """One line of a user's cart. A user has one cart, so the cart is just their lines.

    It holds no price: prices are read again at checkout, so a cart never sells at a price
    the shop has since changed.
    """

    __tablename__ = "cart_items"
    __table_args__ = (
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_in_range"),
    )

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    variant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)

    variant: Mapped[Variant] = relationship(lazy="raise")
