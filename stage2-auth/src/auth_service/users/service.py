"""Rules about users: what they may change about themselves."""

from auth_service.models import User
from auth_service.users.schemas import ProfileUpdate


def update_profile(user: User, data: ProfileUpdate) -> User:
    user.display_name = data.display_name
    return user
