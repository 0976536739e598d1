from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from billing.models import PaymentStatus, RefundReason, RefundStatus
from billing.payments.catalogue import Product
from roadmap_shared.fields import MAX_INT64


class PricePublic(BaseModel):
    product: Product
    amount: int
    currency: str
    credits: int


class PaymentCreate(BaseModel):
    # A product, never an amount: the price is ours (see catalogue).
    product: Product


class PaymentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product: str
    amount: int
    currency: str
    status: PaymentStatus
    amount_captured: int
    amount_refunded: int
    credits_granted: int
    stripe_payment_intent_id: str | None
    stripe_checkout_session_id: str | None
    created_at: datetime


class PaymentCreated(PaymentPublic):
    client_secret: str = Field(
        description="Confirm the payment with Stripe.js using this; fulfilment follows the "
        "provider's webhook, never the client"
    )


class CheckoutCreated(PaymentPublic):
    checkout_url: str = Field(
        description="Send the customer to this Stripe page to pay; fulfilment follows the "
        "provider's webhook, never the customer's return"
    )


class RefundCreate(BaseModel):
    # None: whatever is left to refund.
    amount: int | None = Field(default=None, ge=1, le=MAX_INT64)
    reason: RefundReason


class RefundPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    payment_id: int
    amount: int
    reason: RefundReason
    status: RefundStatus
    created_at: datetime
