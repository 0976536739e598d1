"""Reading `POST /auth/login`, which accepts two bodies:

- JSON, `{"email": ..., "password": ...}`, for API clients;
- the OAuth2 password grant (RFC 6749 section 4.3), a form with `username` and `password`,
  which is what Swagger UI's "Authorize" button sends.

FastAPI binds a body to one content type, so this dependency reads the body itself and
validates either kind with the same `LoginRequest` model (errors are the usual 422).
"""

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from auth_service.auth.schemas import LoginRequest
from roadmap_shared.errors import BadRequest, ProblemError

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# The form's name for each `LoginRequest` field, so an error names the field the client sent.
FORM_FIELDS = {"email": "username", "password": "password"}


async def read_login_request(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    data: Any
    if content_type == FORM:
        form = await request.form()
        grant_type = form.get("grant_type")
        if grant_type is not None and grant_type != "password":
            raise BadRequest("Only the `password` grant type is supported.")
        data = {field: form.get(name) for field, name in FORM_FIELDS.items()}
    elif content_type == JSON:
        try:
            data = json.loads(await request.body())
        # RecursionError: `[[[[...` nested deeper than the parser's stack allows.
        except (ValueError, RecursionError) as exc:
            raise BadRequest("The body is not valid JSON.") from exc
    else:
        raise ProblemError(f"Send the credentials as {JSON} or {FORM}.", status=415)
    try:
        return LoginRequest.model_validate(data)
    except ValidationError as exc:
        names = FORM_FIELDS if content_type == FORM else {}
        errors = [
            {**error, "loc": ("body", *(names.get(str(part), part) for part in error["loc"]))}
            for error in exc.errors()
        ]
        raise RequestValidationError(errors) from exc


# The request body as OpenAPI documents it: either content type.
LOGIN_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON: {"schema": LoginRequest.model_json_schema()},
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string", "description": "The email address"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}
