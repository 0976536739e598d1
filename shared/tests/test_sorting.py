from roadmap_shared.sorting import SortOrder


class ArticleSort(SortOrder):
    TITLE = "title"
    NEWEST = "-created_at"


def test_a_sort_order_names_its_field_and_direction() -> None:
    assert (ArticleSort.TITLE.field, ArticleSort.TITLE.descending) == ("title", False)
    assert (ArticleSort.NEWEST.field, ArticleSort.NEWEST.descending) == ("created_at", True)
    assert ArticleSort("-created_at") is ArticleSort.NEWEST
