"""Reading an uploaded file within its size limit: a dependency, so that a handler gets the
bytes already bounded, and a larger file is never read whole into memory."""

from typing import Annotated

from fastapi import Depends, File, UploadFile

from catalog.dependencies import SettingsDep
from roadmap_shared.errors import ContentTooLarge


async def read_image_upload(
    file: Annotated[UploadFile, File(description="The image; its type is read from its bytes")],
    settings: SettingsDep,
) -> bytes:
    # One byte more than allowed is enough to know the file is too large.
    data = await file.read(settings.max_image_bytes + 1)
    if len(data) > settings.max_image_bytes:
        raise ContentTooLarge(f"The image is larger than {settings.max_image_bytes} bytes")
    return data


ImageUploadDep = Annotated[bytes, Depends(read_image_upload)]
