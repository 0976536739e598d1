"""Text that PostgreSQL can store, for every free-text field of a request.

`roadmap_shared.fields.StoredText` refuses the NUL character. JSON can also spell a lone
UTF-16 surrogate (`"\\ud800"`): Python keeps it in a `str`, but it has no UTF-8 form, so the
database driver fails on it, a 500. pydantic refuses it for some field types and not for
others, so `Text` refuses it explicitly, as a 422 that names the field.
"""

from typing import Annotated

from pydantic import AfterValidator

from roadmap_shared.fields import StoredText


def _encodable(value: str) -> str:
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (a lone surrogate is not)") from exc
    return value


Text = Annotated[StoredText, AfterValidator(_encodable)]
