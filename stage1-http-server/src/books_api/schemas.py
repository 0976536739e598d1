"""What the API accepts and returns. Validation lives here, so handlers only see good data."""

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from roadmap_shared.fields import MAX_INT64, MIN_INT64

# Gutenberg's Bible, roughly: the first printed books.
FIRST_PRINTED_YEAR = 1450


def normalize_isbn13(value: str) -> str:
    """ISBN-13 without the hyphens and spaces people write it with, checksum verified.

    Digits are weighted 1, 3, 1, 3, ...; a valid ISBN's weighted sum is a multiple of 10.
    """
    digits = value.replace("-", "").replace(" ", "")
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        raise ValueError("an ISBN-13 has 13 digits (hyphens and spaces are allowed)")
    if not digits.startswith(("978", "979")):
        raise ValueError("an ISBN-13 starts with 978 or 979")
    checksum = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(digits))
    if checksum % 10:
        raise ValueError("the ISBN-13 check digit does not match")
    return digits


def not_after_next_year(year: int) -> int:
    # Publishers announce books a year ahead; anything later is a typo.
    if year > datetime.now(UTC).year + 1:
        raise ValueError("the year must not be later than next year")
    return year


def without_control_characters(text: str) -> str:
    # NUL, escape codes and line breaks are invisible in a UI, can rewrite a terminal or a
    # log line, and PostgreSQL refuses NUL in text (stage 2 moves these books there).
    if any(unicodedata.category(character) == "Cc" for character in text):
        raise ValueError("must not contain control characters (such as NUL or a line break)")
    return text


Title = Annotated[
    str, StringConstraints(min_length=1, max_length=300), AfterValidator(without_control_characters)
]
Author = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(without_control_characters)
]
Isbn13 = Annotated[str, StringConstraints(max_length=20), AfterValidator(normalize_isbn13)]
# Every integer the API reads fits in 64 bits, as in every stage, and the document says
# so: its ceiling is fixed, while the real one (next year) moves with the calendar.
Year = Annotated[
    int, Field(ge=FIRST_PRINTED_YEAR, le=MAX_INT64), AfterValidator(not_after_next_year)
]
YearFilter = Annotated[int, Field(ge=MIN_INT64, le=MAX_INT64)]

# Strict: a year sent as "1999" is a client bug worth reporting, not something to guess at.
# extra="forbid": a misspelt field ("autor") is refused instead of silently dropped.
_INPUT = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class BookIn(BaseModel):
    """A whole book, as sent to create (POST) or replace (PUT) one."""

    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={
            "examples": [
                {
                    "title": "Clean Code",
                    "author": "Robert C. Martin",
                    "isbn": "978-0-13-235088-4",
                    "year": 2008,
                }
            ]
        },
    )

    title: Title
    author: Author
    isbn: Isbn13
    year: Year


class BookPatch(BaseModel):
    """Some fields of a book (PATCH): what is sent changes, what is left out stays."""

    model_config = ConfigDict(**_INPUT, json_schema_extra={"examples": [{"year": 2009}]})

    title: Title | None = None
    author: Author | None = None
    isbn: Isbn13 | None = None
    year: Year | None = None

    # A default is not validated, so this only sees a null the client sent. Every field of
    # a book is required: it may be left out of a patch, but it cannot be erased.
    @field_validator("title", "author", "isbn", "year")
    @classmethod
    def _refuse_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class Book(BaseModel):
    """A stored book, as the API returns it."""

    # Read back from the data file too: see `BookFile` for why unknown fields are refused.
    model_config = ConfigDict(extra="forbid")

    id: int
    title: str
    author: str
    isbn: str
    year: int
    created_at: datetime
    updated_at: datetime


SortKey = Literal["id", "-id", "title", "-title", "author", "-author", "year", "-year"]


class BookQuery(BaseModel):
    """Filters and order for the book list. Unknown query parameters are ignored, as most
    APIs do; only these are read."""

    author: Author | None = Field(default=None, description="Exact author, any letter case")
    year_from: YearFilter | None = Field(default=None, description="Published in or after")
    year_to: YearFilter | None = Field(default=None, description="Published in or before")
    q: str | None = Field(
        default=None, min_length=1, max_length=100, description="Text in the title, any case"
    )
    sort: SortKey = Field(default="id", description="Field to sort by; `-` for descending")

    @model_validator(mode="after")
    def _years_in_order(self) -> Self:
        if (
            self.year_from is not None
            and self.year_to is not None
            and self.year_from > self.year_to
        ):
            raise ValueError("year_from must not be after year_to")
        return self
