"""Stripe's request encoding: form fields with bracket syntax (`metadata[plan]=pro`,
`items[0][price]=price_123`, `expand[]=latest_charge`), decoded into nested values, and
read with the checks Stripe applies (unknown, missing and malformed parameters)."""

import re
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl

from roadmap_shared.testing.stripe_double.errors import invalid

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def decode_form(body: str) -> dict[str, Any]:
    """`a[b][0][c]=v&e[]=x` → `{"a": {"b": [{"c": "v"}]}, "e": ["x"]}`."""
    root: dict[str, Any] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = name.partition("[")
        steps = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
        node: dict[str, Any] = root
        for step, following in pairwise(steps):
            node = node.setdefault(step, {})
            if following == "":  # `e[]=x`: a list appended to in order
                node.setdefault("", []).append(value)
                break
        else:
            node[steps[-1]] = value
    decoded: dict[str, Any] = _lists(root)
    return decoded


def _lists(node: Any) -> Any:
    """Turns the `{"0": ..., "1": ...}` and `{"": [...]}` dicts into lists."""
    if not isinstance(node, dict):
        return node
    if set(node) == {""}:
        return [_lists(item) for item in node[""]]
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


class Params:
    """The parameters of one request (or one nested hash of it, named `prefix`)."""

    def __init__(self, values: dict[str, Any], prefix: str = "") -> None:
        self.values = values
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def allow(self, *known: str) -> None:
        for key in self.values:
            if key not in {*known, "expand"}:
                raise invalid(
                    f"Received unknown parameter: {self._name(key)}",
                    param=self._name(key),
                    code="parameter_unknown",
                )

    def has(self, key: str) -> bool:
        return key in self.values

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.values.get(key)
        if value is None or value == "":  # Stripe reads an empty value as unset
            if required:
                raise invalid(
                    f"Missing required param: {self._name(key)}.",
                    param=self._name(key),
                    code="parameter_missing",
                )
            return None
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {self._name(key)}", param=self._name(key))
        return value

    def required(self, key: str) -> str:
        return self.text(key, required=True) or ""  # text() raised if it was missing

    def integer(self, key: str, *, required: bool = False, minimum: int = 0) -> int | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        if not re.fullmatch(r"-?\d+", value) or int(value) < minimum:
            kind = "integer" if minimum < 0 else "non-negative integer"
            raise invalid(
                f"Invalid {kind}: {self._name(key)}",
                param=self._name(key),
                code="parameter_invalid_integer",
            )
        return int(value)

    def boolean(self, key: str) -> bool | None:
        value = self.text(key)
        if value is None:
            return None
        if value not in {"true", "false"}:
            raise invalid(
                f"Invalid boolean: {value}",
                param=self._name(key),
                code="parameter_invalid_boolean",
            )
        return value == "true"

    def choice(self, key: str, choices: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None and value not in choices:
            listed = ", ".join(choices[:-1]) + f", or {choices[-1]}"
            raise invalid(f"Invalid {self._name(key)}: must be one of {listed}", param=key)
        return value

    def nested(self, key: str) -> "Params":
        value = self.values.get(key, {})
        if value == "":
            value = {}
        if not isinstance(value, dict):
            raise invalid(f"Invalid hash: {self._name(key)}", param=self._name(key))
        return Params(value, self._name(key))

    def items(self, key: str) -> list["Params"]:
        value = self.values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise invalid(f"Invalid array: {self._name(key)}", param=self._name(key))
        return [Params(item, f"{self._name(key)}[{index}]") for index, item in enumerate(value)]

    def strings(self, key: str) -> list[str]:
        value = self.values.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid(f"Invalid array: {self._name(key)}", param=self._name(key))
        return value

    def metadata(self, current: dict[str, str] | None = None) -> dict[str, str]:
        """Stripe's metadata update: keys set one by one, an empty value deletes its key,
        `metadata=""` clears them all."""
        if self.values.get("metadata") == "":
            return {}
        updated = dict(current or {})
        for key, value in self.nested("metadata").values.items():
            if not isinstance(value, str):
                raise invalid(f"Invalid metadata[{key}]", param=f"metadata[{key}]")
            if value == "":
                updated.pop(key, None)
            else:
                updated[key] = value
        return updated
