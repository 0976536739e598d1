"""The orders a product list can be sorted in. The repository turns each into SQL; the
router reads one from the query string."""

from enum import StrEnum


class ProductSort(StrEnum):
    RELEVANCE = "relevance"  # best text match first; needs `q`
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NAME = "name"
