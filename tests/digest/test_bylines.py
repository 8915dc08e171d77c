"""A paper's byline in the quarterly digest: every author up to eight, then
the first six and how many others (a 34-author paper filled four lines)."""

from __future__ import annotations

from bot.digest.paper_entry import every_author, links
from storage.papers.tables import Paper


def _paper(n: int) -> Paper:
    return Paper(arxiv_id="2601.00001", title="T", authors=[f"Author {i}" for i in range(1, n + 1)])


def test_up_to_eight_authors_are_all_named() -> None:
    assert every_author(_paper(1)) == "Author 1"
    assert every_author(_paper(3)) == "Author 1, Author 2 and Author 3"
    eight = every_author(_paper(8))
    assert eight.endswith("Author 7 and Author 8") and eight.count("Author") == 8


def test_a_long_list_names_six_and_counts_the_rest() -> None:
    assert every_author(_paper(9)) == (
        "Author 1, Author 2, Author 3, Author 4, Author 5, Author 6 and 3 others"
    )
    assert every_author(_paper(34)).endswith("Author 6 and 28 others")


def test_the_heading_links_do_not_repeat_the_titles_link() -> None:
    text = str(links(_paper(1)))
    assert "pdf" in text and "arxiv.org/pdf/2601.00001" in text
    assert "arxiv.org/abs/" not in text  # the title itself links to the abstract page
