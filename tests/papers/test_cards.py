"""How a paper is named in every card, list and post: one copy of each rule."""

from __future__ import annotations

import pytest

from bot.infra.arxiv_ref import parse_ref
from bot.papers.cards import abs_url, pdf_url, short_authors, title_of
from storage.papers.tables import Paper


def test_three_authors_are_all_named() -> None:
    assert short_authors(["Yifan Jiang", "Shiyu Chang", "Zhangyang Wang"]) == (
        "Yifan Jiang, Shiyu Chang, Zhangyang Wang"
    )


def test_four_authors_show_two_and_et_al() -> None:
    # Before: "A, B, C et al.", where "et al." stood for one person (D).
    assert short_authors(["A", "B", "C", "D"]) == "A, B et al."


@pytest.mark.parametrize("keep", [2, 3, 5])
@pytest.mark.parametrize("n", range(1, 9))
def test_et_al_never_hides_a_single_author(n: int, keep: int) -> None:
    names = [f"Author {i}" for i in range(n)]
    text = short_authors(names, keep=keep)
    shown = text.removesuffix(" et al.").split(", ")
    if text.endswith(" et al."):
        assert n - len(shown) >= 2
    else:
        assert shown == names


def test_blank_author_names_are_left_out() -> None:
    assert short_authors([" ", ""]) == "unknown authors"
    assert short_authors(["A", " ", "B"]) == "A, B"


def test_links_and_title_fallback() -> None:
    paper = Paper(arxiv_id="hep-th/9901001")
    assert abs_url(paper) == parse_ref("hep-th/9901001").abs_url
    assert pdf_url(paper) == parse_ref("hep-th/9901001").pdf_url
    assert title_of(paper) == "arXiv:hep-th/9901001"
    paper.title = "Large N"
    assert title_of(paper) == "Large N"
