"""The fake arXiv answers like the real one, so client tests prove something."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import arxiv
import pytest

from tests.fakes.arxiv_server import FIXTURES_DIR, FakeArxiv


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


def _get(fake: FakeArxiv, **params: str) -> tuple[int, str, dict[str, str]]:
    url = f"{fake.url}?{urlencode({'max_results': '100', **params})}"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def _results(fake: FakeArxiv, ids: list[str]) -> list[arxiv.Result]:
    client = arxiv.Client(delay_seconds=0, num_retries=0)
    client.query_url_format = f"{fake.url}?{{}}"
    return list(client.results(arxiv.Search(id_list=ids)))


def test_fixtures_are_where_the_fake_expects_them() -> None:
    assert (FIXTURES_DIR / "atom" / "single_1605.08386.xml").is_file()


def test_serves_recorded_entries_through_the_arxiv_package(fake: FakeArxiv) -> None:
    (result,) = _results(fake, ["1605.08386"])
    assert result.get_short_id() == "1605.08386v1"
    assert result.title == "Heat-bath random walks with Markov bases"
    (old,) = _results(fake, ["quant-ph/0201082v1"])
    assert old.categories == ["quant-ph", "cs.PL"]


def test_combines_known_ids_and_fixes_total_results(fake: FakeArxiv) -> None:
    status, body, _ = _get(fake, id_list="1605.08386,0808.05394,hep-ex/0406020v1")
    assert status == 200
    assert "<opensearch:totalResults>2</opensearch:totalResults>" in body
    ids = sorted(r.get_short_id() for r in _results(fake, ["1605.08386", "hep-ex/0406020v1"]))
    assert ids == ["1605.08386v1", "hep-ex/0406020v1"]


@pytest.mark.parametrize("missing", ["0000.0000", "0808.05394", "2401.99999"])
def test_unknown_well_formed_ids_give_an_empty_feed(fake: FakeArxiv, missing: str) -> None:
    status, body, _ = _get(fake, id_list=missing)
    assert status == 200
    assert "<opensearch:totalResults>0</opensearch:totalResults>" in body
    assert "<entry>" not in body


def test_malformed_id_gets_arxivs_400_error_entry(fake: FakeArxiv) -> None:
    status, body, _ = _get(fake, id_list="1605.08386,abc")
    assert status == 400
    assert "https://arxiv.org/api/errors#incorrect_id_format_for_abc" in body


def test_synthetic_mode_invents_papers_but_keeps_known_missing_ones(fake: FakeArxiv) -> None:
    with FakeArxiv(synthetic=True) as synthetic:
        (result,) = _results(synthetic, ["2402.00042"])
        assert result.title == "Synthetic paper 2402.00042"
        assert result.get_short_id() == "2402.00042v1"
        assert _results(synthetic, ["0808.05394"]) == []


def test_fail_with_count_and_retry_after_then_recovers(fake: FakeArxiv) -> None:
    fake.fail(429, count=2, retry_after=7)
    first, second, third = (_get(fake, id_list="1605.08386") for _ in range(3))
    assert (first[0], second[0], third[0]) == (429, 429, 200)
    assert first[2]["Retry-After"] == "7"


def test_fail_for_seconds(fake: FakeArxiv) -> None:
    fake.fail(503, seconds=0.2)
    assert _get(fake, id_list="1605.08386")[0] == 503
    time.sleep(0.25)
    assert _get(fake, id_list="1605.08386")[0] == 200


def test_malformed_and_empty_answers(fake: FakeArxiv) -> None:
    fake.malformed(1)
    fake.empty(1)
    truncated = _get(fake, id_list="1605.08386")[1]
    assert "</feed>" not in truncated
    assert "<entry>" not in _get(fake, id_list="1605.08386")[1]
    assert "<entry>" in _get(fake, id_list="1605.08386")[1]


def test_delay_and_reset(fake: FakeArxiv) -> None:
    fake.delay(0.2)
    start = time.monotonic()
    _get(fake, id_list="1605.08386")
    assert time.monotonic() - start >= 0.2
    fake.reset()
    fake.reject("1605.08386")
    assert _get(fake, id_list="1605.08386")[0] == 400


def test_records_requests(fake: FakeArxiv) -> None:
    before = time.monotonic()
    _get(fake, id_list="1605.08386,astro-ph/0601001")
    (record,) = fake.requests
    assert record.path == "/api/query"
    assert record.id_list == ("1605.08386", "astro-ph/0601001")
    assert record.time >= before
    assert record.query["max_results"] == "100"
