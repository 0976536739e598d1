"""The tag list: the same for everyone, so it is served from the cache."""

from fastapi import APIRouter, Response

from conduit.dependencies import ContentCacheDep, SessionDep
from conduit.tags import repository
from conduit.tags.schemas import TagList

router = APIRouter(tags=["Tags"])

# The spec returns "the tags"; a list must still have a bound. The most used come first.
MAX_TAGS = 100


@router.get("/tags", summary="Get tags", response_model=TagList)
async def get_tags(session: SessionDep, cache: ContentCacheDep) -> Response:
    async def load() -> bytes:
        tags = await repository.popular(session, MAX_TAGS)
        return TagList(tags=tags).model_dump_json().encode()

    return Response(await cache.tags(load), media_type="application/json")
