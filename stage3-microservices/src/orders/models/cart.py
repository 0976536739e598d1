from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from orders.models.base import Base
from roadmap_shared.database import TimestampMixin

MAX_LINE_QUANTITY = 99


class CartItem(TimestampMixin, Base):
    """One line of a user's cart. A user has one cart, so the cart is just their lines.

    It holds no price: the catalog service owns prices and stock, and a checkout reads
    them there. `variant_id` names a row of the catalog's database, so it is no foreign
    key: each service has its own database, and the catalog decides at checkout whether
    the variant exists and is for sale.
    """

    __tablename__ = "cart_items"
    __table_args__ = (
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_in_range"),
    )

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    variant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
