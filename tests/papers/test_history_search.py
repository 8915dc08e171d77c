"""/history's full-text search (FTS5 on SQLite, tsvector on PostgreSQL) and
/queue's vote order from the triggers' counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.replies import Reply, to_plain
from bot.papers import proposals as svc
from storage.engine import session_scope
from tests.papers.test_proposals import PLACE, T0, meta, propose, who


@pytest.fixture(autouse=True, params=["group_first", "index_first"])
def sqlite_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """On SQLite every test runs with both plans (see queries._sqlite_pool):
    a small group's papers read and matched, or the FTS5 index first."""
    from storage.papers import queries

    if request.param == "index_first":
        monkeypatch.setattr(queries, "SQLITE_SMALL_GROUP", 0)
    return str(request.param)


def add(
    engine: sa.Engine,
    arxiv_id: str,
    title: str,
    abstract: str = "An abstract.",
    *,
    user: str = "alice",
    hours: int = 0,
    place: Place = PLACE,
) -> svc.ProposeResult:
    r = propose(engine, user, arxiv_id, at=T0 + timedelta(hours=hours), place=place)
    with session_scope(engine) as session:
        svc.apply_metadata(
            session=session, paper_id=r.paper.id, meta=meta(arxiv_id, title, abstract), now=T0
        )
    return r


def found(engine: sa.Engine, *words: str, place: Place = PLACE) -> tuple[list[str], int]:
    with session_scope(engine) as session:
        group, _ = who(session, "alice", place)
        entries, total = svc.history(session=session, group_id=group.id, words=list(words))
    return [e.paper.arxiv_id for e in entries], total


def test_a_partial_word_matches_the_start_of_a_word(engine: sa.Engine) -> None:
    add(engine, "1706.03762", "Attention is all you need", "Transformers replace recurrence.")
    add(engine, "1605.08386", "Heat-bath random walks", "Markov bases.", hours=1)
    assert found(engine, "atten") == (["1706.03762"], 1)
    assert found(engine, "markov", "bas") == (["1605.08386"], 1)
    assert found(engine, "transformer") == (["1706.03762"], 1)  # "Transformers"
    assert found(engine, "heat-bath") == (["1605.08386"], 1)
    assert found(engine, "1706.03762") == (["1706.03762"], 1)  # the arXiv id
    # in the authors of both, as relevant in each: the newer first
    assert found(engine, "lovelace") == (["1605.08386", "1706.03762"], 2)
    # a word must start a word: the middle of one does not match
    assert found(engine, "tention") == ([], 0)


def test_a_typed_word_of_up_to_ten_letters_has_a_prefix_index_of_its_own(
    engine: sa.Engine,
) -> None:
    """SQLite: FTS5 reads a typed prefix from a list of its own only when it
    has a prefix index of exactly that length; any other prefix reads the
    whole list of every word it starts (``"testing"*`` at 100,000 papers:
    4-6 ms a search, 0.6 ms with its own list). Matching is the same."""
    add(engine, "1706.03762", "Attention is all you need", "Transformers replace recurrence.")
    for typed in ("transfo", "transfor", "transform", "transforme", "transformer"):
        assert found(engine, typed) == (["1706.03762"], 1)
    assert found(engine, "ransform") == ([], 0)
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        sql = conn.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE name = 'papers_search'")
        ).scalar_one()
    prefixes = re.search(r"prefix='([^']*)'", sql)
    assert prefixes is not None
    assert set(range(2, 11)) <= {int(n) for n in prefixes.group(1).split()}


def test_the_title_ranks_above_the_abstract_then_the_newest_first(engine: sa.Engine) -> None:
    add(engine, "2401.00001", "A study of sparse kernels", "Nothing about graphs.", hours=0)
    add(engine, "2401.00002", "Graph networks", "Graphs, graph after graph.", hours=1)
    add(engine, "2401.00003", "Optimisers", "We look at a graph once.", hours=2)
    add(engine, "2401.00004", "Optimisers", "We look at a graph once.", hours=3)
    ids, total = found(engine, "graph")
    assert total == 4
    assert ids[0] == "2401.00002"  # in the title (and often in the abstract)
    # equally relevant: the newer first
    assert ids.index("2401.00004") < ids.index("2401.00003")


@pytest.mark.parametrize(
    "typed",
    [
        '"',
        "'",
        '"graph',
        "graph*",
        "*",
        "AND",
        "OR graph",
        "NOT",
        "graph NOT",
        "(graph",
        "graph)",
        "title:graph",
        "^graph",
        "NEAR(graph",
        "graph & | ! <-> :*",
        "\\",
        "--",
        "{a b}",
        "%_",
        "😀",
    ],
)
def test_query_syntax_typed_by_a_user_is_only_words(engine: sa.Engine, typed: str) -> None:
    add(engine, "2401.00002", "Graph networks", "Graphs, and or not near.")
    ids, total = found(engine, typed)  # never a syntax error
    assert total == len(ids) and set(ids) <= {"2401.00002"}


def test_operator_words_are_looked_for_as_words(engine: sa.Engine) -> None:
    add(engine, "2401.00002", "Graph networks", "Graphs, and or not near.")
    for typed in ("OR graph", "graph NOT", '"graph', "graph*", "NEAR(graph", "(graph)"):
        assert found(engine, *typed.split()) == (["2401.00002"], 1), typed
    assert found(engine, "title:graph") == ([], 0)  # no "title" in it: not a column filter
    assert found(engine, "graph", "NOT", "zebra") == ([], 0)  # NOT is a word, not negation


def test_only_punctuation_finds_nothing_rather_than_everything(engine: sa.Engine) -> None:
    add(engine, "2401.00002", "Graph networks")
    assert found(engine, "!!!", "...") == ([], 0)


def test_new_metadata_replaces_the_old_words_and_a_forgotten_paper_is_gone(
    engine: sa.Engine,
) -> None:
    r = add(engine, "2401.00002", "Graph networks", "About graphs.")
    with session_scope(engine) as session:
        svc.apply_metadata(
            session=session,
            paper_id=r.paper.id,
            meta=meta("2401.00002", "Diffusion models", "About noise."),
            now=T0,
        )
    assert found(engine, "graph") == ([], 0)
    assert found(engine, "diffusion") == (["2401.00002"], 1)
    with session_scope(engine) as session:
        svc.forget_paper(session=session, paper_id=r.paper.id)
    assert found(engine, "diffusion") == ([], 0)


def test_withdrawn_papers_and_other_groups_are_not_found(engine: sa.Engine) -> None:
    other = Place("slack", "T1", "C2")
    add(engine, "2401.00001", "Graph one")
    gone = add(engine, "2401.00002", "Graph two")
    add(engine, "2401.00003", "Graph three", place=other)
    with session_scope(engine) as session:
        proposal = session.get(type(gone.proposal), gone.proposal.id)
        assert proposal is not None
        svc.withdraw(session=session, proposal=proposal, now=T0)
    assert found(engine, "graph") == (["2401.00001"], 1)
    assert found(engine, "graph", place=other) == (["2401.00003"], 1)


def test_queue_ranks_by_the_vote_counts_the_triggers_keep(engine: sa.Engine) -> None:
    a = add(engine, "2401.00001", "First", hours=0)
    b = add(engine, "2401.00002", "Second", hours=1)
    propose(engine, "bob", "2401.00002")  # a duplicate counts as bob's vote
    with session_scope(engine) as session:
        group, _ = who(session, "alice")
        entries, total = svc.queue(session=session, group_id=group.id)
        assert total == 2
        assert [(e.paper.arxiv_id, e.votes) for e in entries] == [
            ("2401.00002", 2),
            ("2401.00001", 1),
        ]
        _, carol = who(session, "carol")
        _, dave = who(session, "dave")
        for m in (carol, dave):
            assert svc.toggle_vote(session=session, proposal_id=a.proposal.id, member=m, now=T0)
    with session_scope(engine) as session:
        entries, _ = svc.queue(session=session, group_id=group.id)
        assert [(e.paper.arxiv_id, e.votes) for e in entries] == [
            ("2401.00001", 3),
            ("2401.00002", 2),
        ]
        assert not svc.toggle_vote(session=session, proposal_id=a.proposal.id, member=carol, now=T0)
        assert not svc.toggle_vote(session=session, proposal_id=a.proposal.id, member=dave, now=T0)
    with session_scope(engine) as session:
        entries, _ = svc.queue(session=session, group_id=group.id)
        assert [(e.paper.arxiv_id, e.votes) for e in entries] == [
            ("2401.00002", 2),
            ("2401.00001", 1),
        ]
        assert entries[0].votes == svc.entry(session=session, proposal_id=b.proposal.id).votes  # type: ignore[union-attr]


async def run(bot: Bot, text: str) -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")

    async def no_followup(reply: Reply) -> None:
        raise AssertionError(reply)

    return await bot.handle(
        Command(name, rest, Actor("console", "alice", "Alice"), Place("console", "local", "g")),
        no_followup,
    )


async def test_history_command_takes_quotes_and_operators_as_words(bot: Bot) -> None:
    await run(bot, "/propose 1605.08386")
    [hit] = await run(bot, '/history "heat-bath" mark')
    assert "Heat-bath" in to_plain(hit) and "(1)" in to_plain(hit)
    [miss] = await run(bot, '/history " AND ( NOT * zebra')
    assert "No paper in this group matches" in to_plain(miss)
    [punct] = await run(bot, "/history !!!")
    assert "No paper in this group matches “!!!”" in to_plain(punct)


def test_a_large_group_is_searched_from_the_index_with_the_same_answer(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a group above ``SQLITE_SMALL_GROUP`` papers takes the other plan."""
    from storage.papers import queries

    add(engine, "2401.00001", "A study of sparse kernels", "Nothing about graphs.", hours=0)
    add(engine, "2401.00002", "Graph networks", "Graphs, graph after graph.", hours=1)
    add(engine, "2401.00003", "Graph three", place=Place("slack", "T1", "C2"))
    small = found(engine, "graph")
    monkeypatch.setattr(queries, "SQLITE_SMALL_GROUP", 0)
    assert found(engine, "graph") == small == (["2401.00002", "2401.00001"], 2)


@pytest.mark.parametrize("large", [False, True])
def test_a_search_ranks_the_newest_pool_and_counts_up_to_one_more(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    from storage.papers import queries

    for n in range(5):
        add(engine, f"2401.0001{n}", "Graph paper", "Graph. " * (n + 1), hours=n)
    monkeypatch.setattr(queries, "HISTORY_POOL", 2)
    if large:
        monkeypatch.setattr(queries, "SQLITE_SMALL_GROUP", 0)
    ids, total = found(engine, "graph")
    assert total == 3  # "more than 2"
    # the newest two, the more relevant (more "graph" in a same-length text... or
    # fewer words) first; both ranks put 2401.00014 or 2401.00013 first
    assert sorted(ids) == ["2401.00013", "2401.00014"]


async def test_history_says_when_there_are_more_matches_than_it_counts(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.papers import queries

    await run(bot, "/propose 1605.08386")
    await run(bot, "/propose 2104.12255")
    monkeypatch.setattr(queries, "HISTORY_POOL", 1)
    [reply] = await run(bot, "/history a")
    said = to_plain(reply)
    assert "(1+)" in said and "Showing 1 of 1+ (the most relevant of the newest 1)" in said


def test_history_without_words_lists_presented_first_then_the_newest(
    engine: sa.Engine,
) -> None:
    a = add(engine, "2401.00001", "One", hours=0)
    add(engine, "2401.00002", "Two", hours=1)
    add(engine, "2401.00003", "Three", hours=2)
    with session_scope(engine) as session:
        proposal = session.get(type(a.proposal), a.proposal.id)
        assert proposal is not None
        proposal.status, proposal.presented_at = "presented", T0 + timedelta(days=3)
        session.add(proposal)
    with session_scope(engine) as session:
        group, _ = who(session, "alice")
        entries, total = svc.history(session=session, group_id=group.id, words=[], limit=2)
    assert total == 3
    assert [e.paper.arxiv_id for e in entries] == ["2401.00001", "2401.00003"]


def test_a_small_groups_papers_are_matched_word_by_word_as_fts5_cuts_them() -> None:
    """The small-group plan matches in Python; a word starts after anything
    that is not a letter or digit (underscores and hyphens too), in any script."""
    from storage.papers.search import matching_bm25

    doc = ("Snake_case x-ray", '["Émile Zola"]', "3d/2d data; re-ranking, rerank", "2401.00001")
    for toks in (["case"], ["ray"], ["émile"], ["rank"], ["2d", "data"], ["00001"]):
        assert [i for i, _ in matching_bm25([doc], toks)] == [0], toks
    for toks in (["ake"], ["mile"], ["erank"], ["d", "zzz"], ["401"]):
        assert matching_bm25([doc], toks) == [], toks
    # "rank" starts one word of the abstract ("ranking"), "r" three
    one = matching_bm25([doc, ("", "", "", "")], ["rank"])
    three = matching_bm25([doc, ("", "", "", "")], ["r"])
    assert [i for i, _ in one] == [i for i, _ in three] == [0] and three[0][1] < one[0][1]


def test_the_totals_the_triggers_keep_follow_every_move_of_a_proposal(engine: sa.Engine) -> None:
    """/queue's and /history's totals are read from ``proposal_counts``; after
    proposals are made, moved between statuses, withdrawn and deleted they
    still equal a real count, group by group and status by status."""
    from storage.papers import queries
    from storage.papers.tables import Proposal, ProposalStatus

    other = Place("slack", "T1", "C2")
    rs = [add(engine, f"2401.0000{n + 1}", f"Paper {n}", hours=n) for n in range(4)]
    gone = add(engine, "2401.00009", "Unknown to arXiv", place=other)
    add(engine, "2401.00008", "Elsewhere", place=other)
    with session_scope(engine) as session:
        for r, status in zip(rs, ["presented", "scheduled", "withdrawn"], strict=False):
            proposal = session.get(Proposal, r.proposal.id)
            assert proposal is not None
            proposal.status = status
            session.add(proposal)
    with session_scope(engine) as session:
        proposal = session.get(Proposal, rs[1].proposal.id)
        assert proposal is not None
        proposal.status = ProposalStatus.OPEN  # and back
        session.add(proposal)
    with session_scope(engine) as session:
        svc.forget_paper(session=session, paper_id=gone.paper.id)
    with session_scope(engine) as session:
        real = session.execute(
            sa.text("SELECT group_id, status, count(*) FROM proposals GROUP BY group_id, status")
        ).all()
        assert real  # two groups, three statuses
        for group_id, status, n in real:
            assert queries.count_proposals(session, group_id=group_id, statuses=[status]) == n
        group, _ = who(session, "alice")
        shown = [ProposalStatus.OPEN, ProposalStatus.SCHEDULED, ProposalStatus.PRESENTED]
        assert queries.count_proposals(session, group_id=group.id, statuses=shown) == 3
        assert svc.history(session=session, group_id=group.id, words=[])[1] == 3
        assert svc.queue(session=session, group_id=group.id)[1] == 2
        group, _ = who(session, "alice", other)
        assert queries.count_proposals(session, group_id=group.id, statuses=shown) == 1


@pytest.mark.parametrize(
    ("probe", "walk_cost", "span"),
    [
        (1, 0, (1.5, 64)),
        (1, 10**6, (1.5, 64)),
        (2, 0, (1.5, 64)),
        (2, 10**6, (1.5, 64)),
        (2, 10**6, (0.01, 1)),
        (3, 0, (1.5, 64)),
        (3, 10**6, (0.01, 1)),
        (3, 10**6, (0.4, 1)),
    ],
)
def test_the_newest_matches_are_the_same_walked_or_read_from_the_index(
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    probe: int,
    walk_cost: int,
    span: tuple[float, int],
) -> None:
    """PostgreSQL tests the newest ``PROBE`` proposals, then walks on or reads
    the GIN index (``WALK_COST`` decides), a range of the newest proposals at a
    time (``SPAN_MARGIN`` and ``SPAN_SLACK`` say how long: 0.01 and 1, one
    proposal a range); every way gives the same answer."""
    from storage.papers import pg_search, queries

    # "Graph" in the odd ones (more often in the newer), the newest not
    for n in range(7):
        if n % 2:
            add(engine, f"2401.0001{n}", "Graph paper", "Graph. " * n, hours=n)
        else:
            add(engine, f"2401.0001{n}", "Other paper", "Nothing here.", hours=n)
    everything = found(engine, "graph")
    monkeypatch.setattr(queries, "HISTORY_POOL", 2)
    newest_two = found(engine, "graph")
    assert everything[1] == newest_two[1] == 3 and sorted(newest_two[0]) == [
        "2401.00013",
        "2401.00015",
    ]
    monkeypatch.setattr(pg_search, "PROBE", probe)
    monkeypatch.setattr(pg_search, "WALK_COST", walk_cost)
    monkeypatch.setattr(pg_search, "SPAN_MARGIN", span[0])
    monkeypatch.setattr(pg_search, "SPAN_SLACK", span[1])
    assert found(engine, "graph") == newest_two
    monkeypatch.setattr(queries, "HISTORY_POOL", 1000)
    assert found(engine, "graph") == everything
