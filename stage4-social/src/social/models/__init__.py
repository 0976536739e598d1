"""Every table of the social network. Importing this package registers them all."""

from social.models.accounts import User
from social.models.base import Base
from social.models.graph import Block, Follow, Mute
from social.models.messaging import OutboxEvent, ProcessedMessage
from social.models.posts import Comment, Like, Post

__all__ = [
    "Base",
    "Block",
    "Comment",
    "Follow",
    "Like",
    "Mute",
    "OutboxEvent",
    "Post",
    "ProcessedMessage",
    "User",
]
