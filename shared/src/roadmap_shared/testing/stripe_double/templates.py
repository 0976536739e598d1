"""Stripe's own example objects, the mould of every object the double serves.

`templates.json` holds, verbatim, the example object of each type the double serves, taken
from Stripe's published fixtures (`fixtures3.json`, MIT, Stripe, Inc.). An object is built by
copying its example with every value blanked, then setting values through `put`, which
refuses a key the example does not have: the double cannot invent a field, and a field
Stripe sends is never missing. The conformance test proves the result, nested levels too.

Refresh after Stripe publishes new fixtures:
`python -m roadmap_shared.testing.stripe_double.templates <path to fixtures3.json>`.
"""

import copy
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

JSONObject = dict[str, Any]

TEMPLATES_FILE = Path(__file__).with_name("templates.json")
# The object types the double serves. `line_item` is an invoice's line.
SERVED_TYPES = (
    "balance_transaction",
    "billing_portal.session",
    "charge",
    "checkout.session",
    "customer",
    "dispute",
    "event",
    "invoice",
    "line_item",
    "payment_intent",
    "price",
    "product",
    "refund",
    "subscription",
    "subscription_item",
)


@cache
def _examples() -> dict[str, JSONObject]:
    examples: dict[str, JSONObject] = json.loads(TEMPLATES_FILE.read_text())["resources"]
    return examples


def example(object_type: str) -> JSONObject:
    """Stripe's example object of this type, as published (a copy)."""
    return copy.deepcopy(_examples()[object_type])


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _blank(item) for key, item in value.items()}
    if isinstance(value, list):
        return []
    return None


def blank(object_type: str) -> JSONObject:
    """A new object of this type: Stripe's keys, every value null (nested objects too,
    since Stripe sends null for an optional object that does not apply), lists empty,
    `metadata` empty, `livemode` false."""
    obj = {
        key: None if isinstance(value, dict) else _blank(value)
        for key, value in example(object_type).items()
    }
    obj["object"] = object_type
    if "metadata" in obj:
        obj["metadata"] = {}
    if "livemode" in obj:
        obj["livemode"] = False
    return obj


def part(object_type: str, path: str, **values: Any) -> JSONObject:
    """A nested object of this type's example (`path` dotted, `[0]` for a list's first
    item), blanked to its keys, with `values` set."""
    node: Any = example(object_type)
    for step in path.split("."):
        node = node[0] if step == "[0]" else node[step]
    return put(_blank(node), **values)


def put(obj: JSONObject, **values: Any) -> JSONObject:
    """Sets `values` on `obj`, refusing any key Stripe's example does not have."""
    unknown = values.keys() - obj.keys()
    if unknown:
        raise KeyError(f"Stripe's {obj.get('object', 'object')} has no {sorted(unknown)}")
    obj.update(values)
    return obj


def list_object(url: str, data: list[JSONObject], *, has_more: bool = False) -> JSONObject:
    """Stripe's list envelope (its keys are those of `charge.refunds` in the examples)."""
    return part("charge", "refunds", object="list", data=data, has_more=has_more, url=url)


def refresh(fixtures_path: Path) -> None:
    fixtures = json.loads(fixtures_path.read_text())["resources"]
    document = {
        "source": "Stripe's fixtures3.json (stripe/openapi), the example object of each type",
        "license": (
            "MIT, Copyright (c) Stripe, Inc.: "
            "the notice in STRIPE_FIXTURES_LICENSE beside this file"
        ),
        "resources": {name: fixtures[name] for name in SERVED_TYPES},
    }
    TEMPLATES_FILE.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    refresh(Path(sys.argv[1]))
