"""Who may do what with a post.

- Anyone signed in reads a post, except across a block (either way): then it is a 404,
  as for a post that does not exist, so a blocked user learns nothing from post ids.
- Only its author deletes a post: anyone else who can see it gets 403.
- Likes are a set: liking twice is one like, unliking what was not liked changes nothing.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.errors import Forbidden, NotFound
from roadmap_shared.pagination import CursorPage
from social.config import Settings
from social.models import User
from social.paging import CursorQuery, cursor_at
from social.posts import events, repository
from social.posts.repository import PostView
from social.posts.schemas import Author, CommentPublic


async def create(session: AsyncSession, settings: Settings, author: User, body: str) -> PostView:
    # The author's follower count now decides how this post travels (see models.posts).
    on_read = author.followers_count >= settings.fan_out_on_read_followers
    post = await repository.add(session, author, body, fan_out_on_read=on_read)
    events.post_created(session, post)
    return PostView(post=post, author=author, liked=False)


async def readable(session: AsyncSession, viewer: User, post_id: int) -> PostView:
    found = await repository.views(session, viewer.id, [post_id])
    if not found:
        raise NotFound("No post has this id.")
    return found[0]


async def delete(session: AsyncSession, viewer: User, post_id: int) -> None:
    view = await readable(session, viewer, post_id)
    if view.post.author_id != viewer.id:
        raise Forbidden("Only its author may delete a post.")
    # Timelines still hold its id; reads drop ids whose post is gone (timelines.service).
    await repository.remove(session, post_id)


async def like(session: AsyncSession, viewer: User, post_id: int) -> PostView:
    await readable(session, viewer, post_id)
    await repository.like(session, post_id, viewer.id)
    return await readable(session, viewer, post_id)


async def unlike(session: AsyncSession, viewer: User, post_id: int) -> PostView:
    await readable(session, viewer, post_id)
    await repository.unlike(session, post_id, viewer.id)
    return await readable(session, viewer, post_id)


async def comment(session: AsyncSession, viewer: User, post_id: int, body: str) -> CommentPublic:
    await readable(session, viewer, post_id)
    added = await repository.add_comment(session, post_id, viewer, body)
    return CommentPublic(
        id=added.id,
        body=added.body,
        created_at=added.created_at,
        author=Author.model_validate(viewer),
    )


async def comments(
    session: AsyncSession, viewer: User, post_id: int, query: CursorQuery
) -> CursorPage[CommentPublic]:
    await readable(session, viewer, post_id)
    # One row more than the page holds says whether there is a next page.
    rows = await repository.comments(
        session, post_id, after=query.after_id(), limit=query.limit + 1
    )
    page, more = rows[: query.limit], len(rows) > query.limit
    return CursorPage(
        items=[
            CommentPublic(
                id=comment.id,
                body=comment.body,
                created_at=comment.created_at,
                author=Author.model_validate(author),
            )
            for comment, author in page
        ],
        next_cursor=cursor_at(page[-1][0].id) if more else None,
    )
