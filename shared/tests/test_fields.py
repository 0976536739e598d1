import json
import re
from typing import Annotated

import pytest
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from roadmap_shared.fields import (
    MAX_INT32,
    MAX_INT64,
    STORABLE,
    StoredBigId,
    StoredId,
    StoredText,
)


class Note(BaseModel):
    id: StoredId
    text: StoredText


def test_text_with_a_nul_character_is_refused() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        Note(id=1, text="a\x00b")


def test_the_document_says_nul_is_refused() -> None:
    pattern = Note.model_json_schema()["properties"]["text"]["pattern"]

    assert re.search(pattern, "a\x00b") is None
    assert re.search(pattern, "any other text") is not None


def test_storable_after_constraints_checks_the_stripped_text_and_keeps_their_errors() -> None:
    title = TypeAdapter(
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), STORABLE]
    )

    assert title.validate_python("  ok ") == "ok"
    with pytest.raises(ValidationError) as blank:
        title.validate_python("   ")
    assert blank.value.errors()[0]["type"] == "string_too_short"


def test_text_with_a_lone_surrogate_is_refused() -> None:
    # FastAPI parses bodies with the standard library, which lets a lone surrogate through.
    body = json.loads('{"id": 1, "text": "a\\ud800b"}')
    with pytest.raises(ValidationError, match="surrogate"):
        Note.model_validate(body)


@pytest.mark.parametrize("value", [0, -1, MAX_INT32 + 1])
def test_ids_outside_an_integer_column_are_refused(value: int) -> None:
    with pytest.raises(ValidationError):
        Note(id=value, text="ok")


def test_valid_values_pass() -> None:
    assert Note(id=MAX_INT32, text="fine").id == MAX_INT32


class Order(BaseModel):
    id: StoredBigId


def test_big_ids_reach_bigint_and_stop_there() -> None:
    assert Order(id=MAX_INT64).id == MAX_INT64
    with pytest.raises(ValidationError):
        Order(id=MAX_INT64 + 1)
