"""The double's HTTP face: an ASGI app that authenticates, injects the failures a test
asked for, replays idempotent requests, and turns handlers' results into Stripe's
responses (JSON objects, `expand[]`, error bodies, `Request-Id`)."""

import asyncio
import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from roadmap_shared.testing.stripe_double.errors import StripeError, injected
from roadmap_shared.testing.stripe_double.params import Params, decode_form
from roadmap_shared.testing.stripe_double.routes import find_route
from roadmap_shared.testing.stripe_double.store import RequestContext, Store, new_id
from roadmap_shared.testing.stripe_double.templates import JSONObject


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    idempotency_key: str | None
    status: int
    replayed: bool
    params: dict[str, Any]


@dataclass
class FailureRule:
    method: str
    path_prefix: str
    status: int
    timeout: bool
    times: int


@dataclass
class _Saved:
    fingerprint: str
    status: int
    body: JSONObject
    request_id: str


@dataclass
class Gateway:
    """Everything between the socket and the handlers."""

    store: Store
    hang_seconds: float = 5.0
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[FailureRule] = field(default_factory=list)
    _saved: dict[tuple[str, str], _Saved] = field(default_factory=dict)

    def _injected_failure(self, method: str, path: str) -> FailureRule | None:
        for rule in self.failures:
            if rule.times > 0 and rule.method == method and path.startswith(rule.path_prefix):
                rule.times -= 1
                return rule
        return None

    async def handle(self, request: Request) -> Response:
        method, path = request.method, request.url.path
        raw = (await request.body()).decode() if method == "POST" else request.url.query
        values = decode_form(raw)
        key = request.headers.get("idempotency-key") if method == "POST" else None
        with self.store.lock:
            rule = self._injected_failure(method, path)
            status, body, headers = self._answer(request, values, key, rule)
            self.requests.append(
                RecordedRequest(method, path, key, status, "Idempotent-Replayed" in headers,
                                values)
            )  # fmt: skip
        if rule is not None and rule.timeout:
            # The effect happened and is saved under the key; the answer never arrives in
            # time, so the client sees a timeout and retries.
            await asyncio.sleep(self.hang_seconds)
        return Response(json.dumps(body), status, headers, media_type="application/json")

    def _answer(
        self,
        request: Request,
        values: dict[str, Any],
        key: str | None,
        rule: FailureRule | None,
    ) -> tuple[int, JSONObject, dict[str, str]]:
        method, path = request.method, request.url.path
        request_id = new_id("req_", 14)
        headers = {"Request-Id": request_id}
        if key is not None:
            headers["Idempotency-Key"] = key
        api_key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not api_key.startswith(("sk_test_", "rk_test_")):
            error = StripeError(401, "Invalid API Key provided: " + (api_key[:8] or "(none)"))
            return 401, error.response_body(), headers
        if rule is not None and not rule.timeout:
            return rule.status, injected(rule.status).response_body(), headers
        fingerprint = hashlib.sha256(f"{method} {path} {json.dumps(values, sort_keys=True)}"
                                     .encode()).hexdigest()  # fmt: skip
        saved = self._saved.get((api_key, key)) if key is not None else None
        if saved is not None:
            if saved.fingerprint != fingerprint:
                error = StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with. Try using a key other than "
                    f"'{key}' if you meant to execute a different request.",
                    error_type="idempotency_error",
                )
                return 400, error.response_body(), headers
            headers.update({"Idempotent-Replayed": "true", "Original-Request": saved.request_id})
            return saved.status, saved.body, headers
        status, body, keep = self._execute(method, path, values, RequestContext(request_id, key))
        if key is not None and keep:
            self._saved[(api_key, key)] = _Saved(fingerprint, status, body, request_id)
        return status, body, headers

    def _execute(
        self, method: str, path: str, values: dict[str, Any], context: RequestContext
    ) -> tuple[int, JSONObject, bool]:
        found = find_route(method, path)
        if found is None:
            error = StripeError(
                404,
                f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                "or we can help at https://support.stripe.com/.",
            )
            return 404, error.response_body(), False
        handler, object_id = found
        params = Params(values)
        try:
            paths = params.strings("expand")
            # Stripe refuses an `expand[]` path before it does anything; the double can only
            # tell from the result, so it keeps the state to put back.
            before = self.store.snapshot() if paths else None
            result = handler(self.store, object_id, params, context)
        except StripeError as error:
            return error.status, copy.deepcopy(error.response_body()), error.saved
        try:
            return 200, expand(self.store, result, paths), True
        except StripeError as error:
            if before is not None:
                self.store.restore(before)
            return error.status, copy.deepcopy(error.response_body()), False


def expand(store: Store, obj: JSONObject, paths: list[str]) -> JSONObject:
    """A copy of `obj` with each `expand[]` path's id replaced by its object."""
    expanded = copy.deepcopy(obj)
    for path in paths:
        _expand(store, expanded, path.split("."), path)
    return expanded


def _expand(store: Store, node: Any, steps: list[str], path: str) -> None:
    if not steps or node is None:
        return
    if isinstance(node, dict) and node.get("object") == "list" and steps[0] == "data":
        for item in node["data"]:
            _expand(store, item, steps[1:], path)
        return
    if not isinstance(node, dict) or steps[0] not in node:
        raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
    value = node[steps[0]]
    if isinstance(value, str):
        if value not in store.objects:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        value = node[steps[0]] = copy.deepcopy(store.objects[value])
    _expand(store, value, steps[1:], path)


def build_app(gateway: Gateway) -> Starlette:
    return Starlette(
        routes=[Route("/{path:path}", gateway.handle, methods=["GET", "POST", "DELETE"])]
    )
