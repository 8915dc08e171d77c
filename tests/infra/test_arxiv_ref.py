"""parse_ref: every form users paste is accepted, anything else is a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.infra.arxiv_ref import ArxivId, InvalidReference, parse_ref

NEW = ArxivId("2401.01234")
NEW_V2 = ArxivId("2401.01234", 2)
ATTN = ArxivId("1706.03762", 5)

ACCEPTED: list[tuple[str, ArxivId]] = [
    # bare ids
    ("2401.01234", NEW),
    ("2401.01234v2", NEW_V2),
    ("0704.0001", ArxivId("0704.0001")),
    ("1412.9999v3", ArxivId("1412.9999", 3)),
    ("1501.00001", ArxivId("1501.00001")),
    ("arXiv:1706.03762v5", ATTN),
    ("arxiv:2401.01234", NEW),
    ("ARXIV: 2401.01234", NEW),
    ("  2401.01234\n", NEW),
    # old-style
    ("hep-th/9901001", ArxivId("hep-th/9901001")),
    ("math.GT/0309136", ArxivId("math/0309136")),
    ("math/0309136v2", ArxivId("math/0309136", 2)),
    ("cond-mat.str-el/0101001", ArxivId("cond-mat/0101001")),
    ("arXiv:hep-th/9901001v1", ArxivId("hep-th/9901001", 1)),
    ("astro-ph/0601001", ArxivId("astro-ph/0601001")),
    # arxiv.org
    ("https://arxiv.org/abs/1706.03762v5", ATTN),
    ("http://arxiv.org/abs/2401.01234", NEW),
    ("arxiv.org/abs/2401.01234", NEW),
    ("www.arxiv.org/abs/2401.01234", NEW),
    ("https://www.arxiv.org/abs/2401.01234/", NEW),
    ("HTTPS://ArXiv.org/abs/2401.01234", NEW),
    ("https://arxiv.org/pdf/2401.01234", NEW),
    ("https://arxiv.org/pdf/2401.01234.pdf", NEW),
    ("https://arxiv.org/pdf/2401.01234v2", NEW_V2),
    ("https://arxiv.org/pdf/2401.01234v2.pdf", NEW_V2),
    ("https://arxiv.org/html/2401.01234v2", NEW_V2),
    ("https://arxiv.org/html/2401.01234v2/", NEW_V2),
    ("https://arxiv.org/html/2401.01234v2/#S3", NEW_V2),
    ("https://arxiv.org/html/2401.01234v2/x1.png", NEW_V2),
    ("https://arxiv.org/abs/2401.01234?context=cs.LG", NEW),
    ("https://arxiv.org/abs/2401.01234v2#comments", NEW_V2),
    ("https://arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
    ("https://arxiv.org/abs/math.GT/0309136v1", ArxivId("math/0309136", 1)),
    ("https://arxiv.org/pdf/hep-th/9901001v2.pdf", ArxivId("hep-th/9901001", 2)),
    ("https://export.arxiv.org/abs/2401.01234", NEW),
    # mirrors and readers
    ("https://www.alphaxiv.org/abs/2401.01234", NEW),
    ("https://alphaxiv.org/overview/2401.01234v2", NEW_V2),
    ("https://huggingface.co/papers/2401.01234", NEW),
    ("huggingface.co/papers/1706.03762", ArxivId("1706.03762")),
    ("https://ar5iv.org/abs/1706.03762", ArxivId("1706.03762")),
    ("https://ar5iv.labs.arxiv.org/html/1706.03762", ArxivId("1706.03762")),
    # Slack wrappers
    ("<https://arxiv.org/abs/1706.03762v5>", ATTN),
    ("<https://arxiv.org/abs/1706.03762v5|arxiv.org/abs/1706.03762v5>", ATTN),
    (" <https://arxiv.org/pdf/2401.01234v2.pdf|the paper> ", NEW_V2),
]

REJECTED: list[str] = [
    "",
    "   ",
    "<>",
    "hello",
    "abc",
    "2401",
    "2401.123",
    "2401.123456",
    "2413.01234",  # month 13
    "2400.01234",  # month 00
    "0000.0000",
    "0808.05394",  # 5-digit number before 2015
    "1501.0001",  # 4-digit number after 2014
    "0703.0001",  # before the new scheme
    "2401.00000",
    "2401.01234v",
    "2401.01234v0",
    "2401.01234V2",
    "2401.01234 2401.05678",
    "Hep-th/9901001",
    "hep-th/99010011",
    "hep-th/9913001",  # month 13
    "hep-th/0801001",  # after the old scheme
    "hep-th/9901000",
    "hep_th/9901001",
    "math.GT./0309136",
    "https://example.com/abs/2401.01234",
    "https://arxiv.org.evil.com/abs/2401.01234",
    "ftp://arxiv.org/abs/2401.01234",
    "https://arxiv.org/",
    "https://arxiv.org/abs/",
    "https://arxiv.org/list/cs.LG/recent",
    "https://arxiv.org/abs/2401.01234/extra",
    "https://arxiv.org/abs/2401.01234.pdf",
    "https://huggingface.co/abs/2401.01234",
    "https://alphaxiv.org/papers/2401.01234",
    "https://arxiv.org/abs/2413.01234",
    "arXiv:https://arxiv.org/abs/2401.01234",
    "10.48550/arXiv.2401.01234",
    "<https://example.com|2401.01234>",
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_forms_parse_to_the_canonical_id(text: str, expected: ArxivId) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", REJECTED)
def test_rejected_forms_raise_invalid_reference(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_ref(text)


def test_error_message_quotes_input_and_shows_examples() -> None:
    with pytest.raises(InvalidReference) as info:
        parse_ref("2413.01234")
    message = str(info.value)
    assert '"2413.01234"' in message
    assert "month 13" in message
    for example in ("2401.01234", "https://arxiv.org/abs/1706.03762v5", "hep-th/9901001"):
        assert example in message


def test_error_message_truncates_long_input() -> None:
    with pytest.raises(InvalidReference) as info:
        parse_ref("x" * 5000)
    message = str(info.value)
    assert "x" * 79 + "…" in message
    assert len(message) < 300


def test_invalid_reference_is_a_value_error() -> None:
    assert issubclass(InvalidReference, ValueError)


def test_str_and_urls() -> None:
    assert str(NEW) == "2401.01234"
    assert str(NEW_V2) == "2401.01234v2"
    assert NEW_V2.abs_url == "https://arxiv.org/abs/2401.01234"
    assert NEW_V2.pdf_url == "https://arxiv.org/pdf/2401.01234"
    old = ArxivId("hep-th/9901001", 3)
    assert str(old) == "hep-th/9901001v3"
    assert old.abs_url == "https://arxiv.org/abs/hep-th/9901001"


@pytest.mark.parametrize(
    ("base", "version"),
    [("2401.01234v2", None), ("math.GT/0309136", None), ("nonsense", None), ("2401.01234", 0)],
)
def test_arxiv_id_refuses_non_canonical_values(base: str, version: int | None) -> None:
    with pytest.raises(InvalidReference):
        ArxivId(base, version)


# -- properties ----------------------------------------------------------------

_versions = st.none() | st.integers(min_value=1, max_value=999)


@st.composite
def new_ids(draw: st.DrawFn) -> ArxivId:
    year = draw(st.integers(min_value=7, max_value=99))
    month = draw(st.integers(min_value=1 if year > 7 else 4, max_value=12))
    yymm = f"{year:02d}{month:02d}"
    digits = 4 if yymm <= "1412" else 5
    number = draw(st.integers(min_value=1, max_value=10**digits - 1))
    return ArxivId(f"{yymm}.{number:0{digits}d}", draw(_versions))


@st.composite
def old_ids(draw: st.DrawFn) -> ArxivId:
    archive = draw(st.from_regex(r"[a-z]{1,8}(-[a-z]{1,5})?", fullmatch=True))
    year = draw(st.sampled_from([*range(91, 100), *range(0, 8)]))
    month = draw(st.integers(min_value=1, max_value=12))
    number = draw(st.integers(min_value=1, max_value=999))
    return ArxivId(f"{archive}/{year:02d}{month:02d}{number:03d}", draw(_versions))


valid_ids = new_ids() | old_ids()


@given(st.text())
def test_any_text_raises_only_invalid_reference(text: str) -> None:
    try:
        parsed = parse_ref(text)
    except InvalidReference as exc:
        assert str(exc)
    else:
        assert parse_ref(str(parsed)) == parsed


@given(
    st.text(alphabet="0123456789.v/-:abcdehimprstxAX<>|?#htps ", max_size=40)
    | st.from_regex(r"(https?://)?(www\.)?arxiv\.org/(abs|pdf|html)/[0-9a-z./-]{0,20}")
)
def test_id_like_text_raises_only_invalid_reference_and_round_trips(text: str) -> None:
    try:
        parsed = parse_ref(text)
    except InvalidReference:
        return
    assert parse_ref(str(parsed)) == parsed
    assert parse_ref(parsed.abs_url) == ArxivId(parsed.base)


@given(valid_ids)
def test_valid_ids_round_trip_through_str(aid: ArxivId) -> None:
    assert parse_ref(str(aid)) == aid
    assert parse_ref(f"arXiv:{aid}") == aid


@given(valid_ids, st.sampled_from(["", "www."]), st.sampled_from(["https://", "http://", ""]))
def test_valid_ids_round_trip_through_links(aid: ArxivId, www: str, scheme: str) -> None:
    host = f"{scheme}{www}arxiv.org"
    assert parse_ref(f"{host}/abs/{aid}") == aid
    assert parse_ref(f"{host}/pdf/{aid}") == aid
    assert parse_ref(f"{host}/pdf/{aid}.pdf") == aid
    assert parse_ref(f"<{host}/abs/{aid}|{aid}>") == aid
    assert parse_ref(aid.abs_url) == ArxivId(aid.base)
    assert parse_ref(aid.pdf_url) == ArxivId(aid.base)
