"""Every table of the billing service. Importing this package registers them all."""

from billing.models.accounts import User
from billing.models.base import Base
from billing.models.payments import Payment, PaymentStatus, Refund, RefundReason, RefundStatus
from billing.models.subscriptions import Project, Subscription, SubscriptionStatus
from billing.models.tenants import Membership, Organization, Role
from billing.models.webhooks import InboxStatus, WebhookEvent

# The tables behind row-level security: each has `organization_id` and a policy on it.
TENANT_TABLES = ("memberships", "payments", "refunds", "subscriptions", "projects")

__all__ = [
    "TENANT_TABLES",
    "Base",
    "InboxStatus",
    "Membership",
    "Organization",
    "Payment",
    "PaymentStatus",
    "Project",
    "Refund",
    "RefundReason",
    "RefundStatus",
    "Role",
    "Subscription",
    "SubscriptionStatus",
    "User",
    "WebhookEvent",
]
