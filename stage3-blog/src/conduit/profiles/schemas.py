from conduit.schemas import SpecModel


class Profile(SpecModel):
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileResponse(SpecModel):
    profile: Profile
