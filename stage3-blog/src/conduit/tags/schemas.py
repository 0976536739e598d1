from conduit.schemas import SpecModel


class TagList(SpecModel):
    tags: list[str]
