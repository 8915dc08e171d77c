"""Full-text search over papers (/history), in each database's own engine.

SQLite: an FTS5 table ``papers_search`` over ``papers`` (external content:
the text is stored once, in ``papers``), kept in step by three triggers, with
prefix indexes for prefixes of 2 to 6 letters. PostgreSQL: a stored generated
``tsvector`` column ``papers.search``, copied by triggers to each proposal of
the paper (``proposals.search``, with a GIN index). Built by migrations
``0006_search`` and ``0007_search_index`` (which also fill them from the rows
already stored) and ranked by relevance: bm25 on SQLite, ``ts_rank`` on
PostgreSQL, the title weighing most, then the authors.

Neither is described by the table classes (SQLModel has no virtual tables and
no dialect-specific generated columns), so :func:`include_object` keeps them
out of Alembic's comparison of tables and migrations.

Matching: each word the user gives must start a word of the title, the
authors, the abstract or the arXiv id, in any case (``transform`` finds
"Transformers"). Words are cut into letters-and-digits tokens here and each is
quoted, so nothing a user types is read as query syntax.

Note for later migrations: on SQLite, ``batch_alter_table("papers")`` rebuilds
the table and drops its triggers; such a migration must run
:data:`SQLITE_TRIGGERS` again.
"""

from __future__ import annotations

import re
from typing import Any

FTS_TABLE = "papers_search"
PG_COLUMN = "search"
PG_INDEX = "ix_papers_search"

#: FTS5's prefix indexes: a word of 2 to 10 letters typed as a prefix is read
#: from one list of its own (made as the papers are indexed) instead of the
#: lists of every word it starts being merged for each search (``"te"*`` at
#: 100,000 papers: 29 ms, with one 0.2 ms). A merge reads the whole of every
#: list, however few rows are wanted, so a longer prefix pays for how common
#: its word is even when it starts only that word: ``"testing"*`` took 4-6 ms
#: (FTS5 reads it twice more: bm25 counts its rows), with a list of its own
#: 0.6 ms. Migration 0007_search_index made 2 to 6 (the index about four
#: times as big as without), 0009_search_prefixes 7 to 10 (the database 16%
#: bigger at 100,000 papers); a word of 11 letters or more is still merged.
SQLITE_PREFIXES = "2 3 4 5 6 7 8 9 10"


def sqlite_table(prefixes: str | None = SQLITE_PREFIXES) -> str:
    """The FTS5 table; ``unicode61`` folds case (not diacritics: PostgreSQL's
    'simple' keeps them) and splits on anything that is not a letter or digit.
    Migration 0006_search made it without prefix indexes, 0007 with them."""
    prefix = f", prefix='{prefixes}'" if prefixes else ""
    return f"""
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
    title, authors, abstract, arxiv_id,
    content='papers', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0'{prefix}
)
"""


_COLS = "title, authors, abstract, arxiv_id"
_NEW = "new.title, new.authors, new.abstract, new.arxiv_id"
_OLD = "old.title, old.authors, old.abstract, old.arxiv_id"

SQLITE_TRIGGERS = (
    f"""
CREATE TRIGGER papers_search_insert AFTER INSERT ON papers BEGIN
    INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.id, {_NEW});
END
""",
    f"""
CREATE TRIGGER papers_search_delete AFTER DELETE ON papers BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD});
END
""",
    f"""
CREATE TRIGGER papers_search_update AFTER UPDATE OF {_COLS} ON papers BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD});
    INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.id, {_NEW});
END
""",
)

#: Indexes everything already in ``papers`` (the migration's back-fill).
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"

#: The names of SQLITE_TRIGGERS, in order.
SQLITE_TRIGGER_NAMES = ("papers_search_insert", "papers_search_delete", "papers_search_update")


def sqlite_remake(prefixes: str | None) -> list[str]:
    """The statements that make the FTS5 table again with these prefix indexes
    (``None``: none), with its triggers, filled from ``papers`` (migrations)."""
    return [
        *(f"DROP TRIGGER {name}" for name in SQLITE_TRIGGER_NAMES),
        f"DROP TABLE {FTS_TABLE}",
        sqlite_table(prefixes),
        *SQLITE_TRIGGERS,
        SQLITE_REBUILD,
    ]


#: bm25 column weights: title, authors, abstract, arXiv id.
SQLITE_BM25 = f"bm25({FTS_TABLE}, 10.0, 5.0, 1.0, 1.0)"


def _pg_words(text: str) -> str:
    """The 'simple' configuration: lower-cased words, no stemming and no stop
    words, so a word matches the same papers as on SQLite."""
    # letters-and-digits runs only, as SQLite's tokenizer and :func:`tokens`
    # cut them ('1605.08386' is two words there, one lexeme to PostgreSQL)
    return f"to_tsvector('simple'::regconfig, regexp_replace({text}, '[^[:alnum:]]+', ' ', 'g'))"


PG_EXPRESSION = (
    f"setweight({_pg_words('title')}, 'A') || "
    f"setweight({_pg_words('authors::text')}, 'B') || "
    "setweight(" + _pg_words("abstract || ' ' || arxiv_id") + ", 'C')"
)

PG_ADD_COLUMN = (
    f"ALTER TABLE papers ADD COLUMN {PG_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({PG_EXPRESSION}) STORED"
)
PG_CREATE_INDEX = f"CREATE INDEX {PG_INDEX} ON papers USING gin ({PG_COLUMN})"

#: Each proposal carries a copy of its paper's vector (migration 0007), with a
#: GIN index: /history finds a group's matches there, in a narrow table (the
#: vector kept out of line), so reading a few thousand matches is a few hundred
#: pages of proposals, not the papers' rows with their abstracts. Triggers keep
#: the copy: a new proposal (or one moved to another paper) takes its paper's,
#: and new metadata of a paper is copied to its proposals.
PG_PROPOSALS_INDEX = "ix_proposals_search"
PG_PROPOSALS = (
    f"ALTER TABLE proposals ADD COLUMN {PG_COLUMN} tsvector",
    # out of line even when short: the heap stays a few dozen bytes a row
    f"ALTER TABLE proposals ALTER COLUMN {PG_COLUMN} SET STORAGE EXTERNAL",
    "ALTER TABLE proposals SET (toast_tuple_target = 128)",
    f"""
CREATE FUNCTION proposals_search_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.{PG_COLUMN} := (SELECT {PG_COLUMN} FROM papers WHERE id = NEW.paper_id);
    RETURN NEW;
END
$$
""",
    "CREATE TRIGGER proposals_search_copy BEFORE INSERT OR UPDATE OF paper_id ON proposals "
    "FOR EACH ROW EXECUTE FUNCTION proposals_search_copy()",
    f"""
CREATE FUNCTION papers_search_spread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE proposals SET {PG_COLUMN} = NEW.{PG_COLUMN}
    WHERE paper_id = NEW.id AND {PG_COLUMN} IS DISTINCT FROM NEW.{PG_COLUMN};
    RETURN NULL;
END
$$
""",
    f"CREATE TRIGGER papers_search_spread AFTER UPDATE OF {_COLS} ON papers "
    "FOR EACH ROW EXECUTE FUNCTION papers_search_spread()",
    # the proposals already stored (a plain UPDATE: the copy trigger is on paper_id)
    f"UPDATE proposals SET {PG_COLUMN} = papers.{PG_COLUMN} FROM papers "
    "WHERE papers.id = proposals.paper_id",
    f"CREATE INDEX {PG_PROPOSALS_INDEX} ON proposals USING gin ({PG_COLUMN})",
    # nothing searches the papers' own index any more (their vector stays: the
    # copies are taken from it)
    f"DROP INDEX {PG_INDEX}",
)
PG_PROPOSALS_DROP = (
    PG_CREATE_INDEX,
    f"DROP INDEX {PG_PROPOSALS_INDEX}",
    "DROP TRIGGER papers_search_spread ON papers",
    "DROP FUNCTION papers_search_spread()",
    "DROP TRIGGER proposals_search_copy ON proposals",
    "DROP FUNCTION proposals_search_copy()",
    "ALTER TABLE proposals RESET (toast_tuple_target)",
    f"ALTER TABLE proposals DROP COLUMN {PG_COLUMN}",
)

_TOKEN = re.compile(r"[^\W_]+")


def tokens(words: list[str]) -> list[str]:
    """The letters-and-digits runs of the words, lower-cased, each once."""
    seen: dict[str, None] = {}
    for word in words:
        for tok in _TOKEN.findall(word.lower()):
            seen.setdefault(tok, None)
    return list(seen)


def fts5_query(toks: list[str]) -> str:
    """An FTS5 MATCH expression: every token as a quoted prefix, all required.
    Tokens hold only letters and digits, so quoting cannot be broken out of."""
    return " AND ".join(f'"{t}"*' for t in toks)


def pg_query(toks: list[str]) -> str:
    """A ``to_tsquery`` text: every token as a quoted prefix, all required."""
    return " & ".join("'" + t.replace("'", "''") + "':*" for t in toks)


#: bm25's parameters (FTS5's) and the column weights of :data:`SQLITE_BM25`.
_K1, _B = 1.2, 0.75
_WEIGHTS = (10.0, 5.0, 1.0, 1.0)


def matching_bm25(
    docs: list[tuple[str, str, str, str]], toks: list[str]
) -> list[tuple[int, float]]:
    """(index, bm25) of the papers (title, authors, abstract, id) that have a
    word starting with every token, the way the FTS5 table matches and ranks
    them (bm25 negative: lower is better). For the SQLite plan that reads a
    small group's papers rather than the index. The tokens' inverse document
    frequencies are left out: every paper kept has every token, so within
    this set they are the same; the order comes from how often, and in how
    long a text, each token occurs, column by column."""
    hits: list[tuple[int, list[str]]] = []
    for i, doc in enumerate(docs):
        cols = [col.lower() for col in doc]
        text = "\n".join(cols)
        if all(_word_starts(text, t, first=True) for t in toks):
            hits.append((i, cols))
    if not hits:
        return []
    lengths = [[len(_TOKEN.findall(col)) for col in cols] for _, cols in hits]
    avg = [max(1.0, sum(n[c] for n in lengths) / len(hits)) for c in range(4)]
    out = []
    for (i, cols), n in zip(hits, lengths, strict=True):
        total = 0.0
        for c, col in enumerate(cols):
            norm = _K1 * (1 - _B + _B * n[c] / avg[c])
            for tok in toks:
                tf = _word_starts(col, tok)
                if tf:
                    total += _WEIGHTS[c] * tf * (_K1 + 1) / (tf + norm)
        out.append((i, -total))
    return out


def _word_starts(text: str, tok: str, *, first: bool = False) -> int:
    r"""How many words of ``text`` start with ``tok`` (``first``: 1 at the
    first). A word starts where a letter or digit follows anything else or
    the text's start (``[^\W_]`` is ``isalnum``), as ``_TOKEN`` cuts them;
    ``tok`` is letters and digits only. ``str.find`` rather than a regular
    expression: a look-behind makes the search ten times slower."""
    n, at = 0, text.find(tok)
    while at >= 0:
        if at == 0 or not text[at - 1].isalnum():
            n += 1
            if first:
                return n
        at = text.find(tok, at + 1)
    return n


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: the search objects are built by hand (see above)."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == PG_COLUMN and getattr(obj, "table", None) is not None:
        return bool(obj.table.name not in ("papers", "proposals"))
    return not (type_ == "index" and name in (PG_INDEX, PG_PROPOSALS_INDEX))
