from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, IntegerIdMixin
from roadmap_shared.database import TimestampMixin

# The most units of one variant in stock: a typo guard that also keeps `stock + delta`
# far from the INTEGER column's limit.
MAX_STOCK = 1_000_000

# PostgreSQL fills this column itself on every insert and update, so the search index can
# never disagree with the text. Names weigh more than descriptions (A > B) in the ranking.
# The text search configuration is spelled out ('english'): the expression must be
# immutable to be stored, and the default configuration is a setting that could change.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


class Category(IntegerIdMixin, TimestampMixin, Base):
    """A node of the category tree: a category without a parent is a root."""

    __tablename__ = "categories"

    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)


class Product(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_products_created_at_id", "created_at", "id"),
    )

    category_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Archived products leave the catalogue but stay in the database: order lines refer
    # to their variants, and an order's history must not change.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True), deferred=True
    )

    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product", lazy="raise", order_by="Variant.id"
    )
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product", lazy="raise", order_by="(ProductImage.position, ProductImage.id)"
    )


class Variant(IntegerIdMixin, TimestampMixin, Base):
    """What a customer actually buys: a size or colour of a product, with its own stock."""

    __tablename__ = "variants"
    __table_args__ = (
        # The last line of defence against overselling: even a buggy query cannot take
        # stock below zero; PostgreSQL refuses the update.
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_is_iso_4217"),
    )

    product_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Minor units (cents) of `currency`.
    price_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer, default=0)
    # Whether `stock.low` was announced since the stock last went down to the threshold:
    # set with the event, cleared by a restock, so admins hear of each fall once.
    low_stock_alerted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")


class ProductImage(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "product_images"

    product_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    # Where the bytes live in the image storage; the URL is derived from it when serving.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    alt_text: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="images", lazy="raise")
