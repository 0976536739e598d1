"""Customers, products and prices."""

from roadmap_shared.testing.stripe_double.errors import invalid
from roadmap_shared.testing.stripe_double.params import Params
from roadmap_shared.testing.stripe_double.store import Store, new_id, paginate
from roadmap_shared.testing.stripe_double.templates import JSONObject, blank, part, put

INTERVALS = ("day", "week", "month", "year")


def currency(params: Params, *, required: bool = True) -> str | None:
    value = params.text("currency", required=required)
    if value is not None and (len(value) != 3 or not value.isalpha()):
        raise invalid(f"Invalid currency: {value}.", param="currency")
    return None if value is None else value.lower()


def create_customer(store: Store, params: Params) -> JSONObject:
    params.allow("email", "name", "description", "phone", "metadata")
    return store.add(
        put(
            blank("customer"),
            id=new_id("cus_", 14),
            address=None,
            balance=0,
            created=store.now(),
            delinquent=False,
            description=params.text("description"),
            email=params.text("email"),
            invoice_prefix=new_id("", 8).upper(),
            invoice_settings=part("customer", "invoice_settings", custom_fields=None),
            metadata=params.metadata(),
            name=params.text("name"),
            next_invoice_sequence=1,
            phone=params.text("phone"),
            shipping=None,
            tax_exempt="none",
        )
    )


def update_customer(store: Store, customer_id: str, params: Params) -> JSONObject:
    params.allow("email", "name", "description", "phone", "metadata")
    customer = store.get("customer", customer_id)
    for key in ("email", "name", "description", "phone"):
        if params.has(key):
            customer[key] = params.text(key)
    customer["metadata"] = params.metadata(customer["metadata"])
    return customer


def create_product(store: Store, params: Params) -> JSONObject:
    params.allow("name", "description", "active", "metadata")
    return store.add(new_product(store, params))


def new_product(store: Store, params: Params) -> JSONObject:
    now = store.now()
    active = params.boolean("active")
    return put(
        blank("product"),
        id=new_id("prod_", 14),
        active=True if active is None else active,
        created=now,
        description=params.text("description"),
        metadata=params.metadata(),
        name=params.required("name"),
        type="service",
        updated=now,
    )


def create_price(store: Store, params: Params) -> JSONObject:
    params.allow(
        "product", "product_data", "unit_amount", "currency", "recurring",
        "lookup_key", "nickname", "active", "metadata",
    )  # fmt: skip
    if params.has("product_data"):
        product = store.add(new_product(store, params.nested("product_data")))
    else:
        product = store.get("product", params.required("product"), "product")
    lookup_key = params.text("lookup_key")
    if lookup_key is not None and any(p["lookup_key"] == lookup_key for p in store.all("price")):
        raise invalid(
            f"A price (`lookup_key`: {lookup_key}) already uses that lookup key.",
            param="lookup_key",
        )
    price = new_price(store, params, product["id"])
    price["lookup_key"] = lookup_key
    price["nickname"] = params.text("nickname")
    price["metadata"] = params.metadata()
    return store.add(price)


def new_price(store: Store, params: Params, product_id: str) -> JSONObject:
    """A price from `unit_amount`, `currency` and an optional `recurring` hash (also what
    `price_data` creates inline in a Checkout Session)."""
    unit_amount = params.integer("unit_amount", required=True)
    recurring = None
    if params.has("recurring"):
        interval_params = params.nested("recurring")
        interval_params.allow("interval", "interval_count")
        recurring = part(
            "price",
            "recurring",
            interval=interval_params.choice("interval", INTERVALS, required=True),
            interval_count=interval_params.integer("interval_count", minimum=1) or 1,
            usage_type="licensed",
        )
    return put(
        blank("price"),
        id=new_id("price_"),
        active=True,
        billing_scheme="per_unit",
        created=store.now(),
        currency=currency(params),
        product=product_id,
        recurring=recurring,
        tax_behavior="unspecified",
        type="one_time" if recurring is None else "recurring",
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )


def list_prices(store: Store, params: Params) -> JSONObject:
    params.allow("lookup_keys", "product", "active", "limit", "starting_after")
    found = store.all("price")
    lookup_keys = params.strings("lookup_keys")
    if lookup_keys:
        found = [price for price in found if price["lookup_key"] in lookup_keys]
    if params.has("product"):
        found = [price for price in found if price["product"] == params.text("product")]
    active = params.boolean("active")
    if active is not None:
        found = [price for price in found if price["active"] is active]
    return paginate(
        found, "/v1/prices", params.integer("limit", minimum=1), params.text("starting_after")
    )
