"""The offline (extractive) summary reads well: the tl;dr is the contribution
sentence, nothing opens by leaning on a sentence the reader has not seen, the
authors are "the authors", LaTeX is text, and no sentence is cut (issue 14).

Test data: the 13 real abstracts of the seeded quarter and the real arXiv
responses in tests/fixtures/arxiv/."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from bot.digest.offline_latex import readable
from bot.digest.offline_prose import leans, standalone, third_person
from bot.digest.offline_summary import extractive
from bot.digest.summary_types import INSIGHT_LIMIT, TLDR_LIMIT, PaperInput, Summary
from tests.digest.conftest import real_papers
from tests.fixtures import read_yaml

QUARTER = Path(__file__).parents[1] / "fixtures" / "quarter" / "quarter.yaml"
ATOM = Path(__file__).parents[1] / "fixtures" / "arxiv" / "atom"
NS = {"a": "http://www.w3.org/2005/Atom"}

#: Openings that lean on the sentence before (the issue's examples and their kin).
LEANING_OPENINGS = re.compile(
    r"^(?:above this|from this|despite (?:its|this|these)|"
    r"this\b(?! (?:paper|work|article|study)\b)|"
    r"these|those|such|it\b|its|they|their|however|moreover|in addition|furthermore|thus|"
    r"therefore|hence|nonetheless|nevertheless|notably|additionally|also|finally|in particular|"
    r"as such|to address these|based on this|here,)",
    re.IGNORECASE,
)
FIRST_PERSON = re.compile(r"\b(?:we|our|ours|us|ourselves)\b", re.IGNORECASE)
LATEX = re.compile(r"\$(?![\d,.]+\b)|\\[A-Za-z%]|\^\{|_\{|--|``")


@cache
def papers() -> tuple[PaperInput, ...]:
    data = read_yaml(QUARTER)
    out = [
        PaperInput(i + 1, p["arxiv_id"], 1, p["title"], tuple(p["authors"]), p["abstract"])
        for i, p in enumerate(data["papers"])
    ]
    seen = {p.arxiv_id for p in out}
    for r in real_papers():
        if r.arxiv_id not in seen:
            seen.add(r.arxiv_id)
            out.append(PaperInput(len(out) + 1, r.arxiv_id, 1, r.title, r.authors, r.abstract))
    for path in sorted(ATOM.glob("*.xml")):  # the other recorded responses (old-style ids too)
        for entry in ET.parse(path).getroot().findall("a:entry", NS):
            arxiv_id = entry.findtext("a:id", "", NS).rsplit("/abs/", 1)[-1]
            abstract = " ".join(entry.findtext("a:summary", "", NS).split())
            if arxiv_id.rsplit("v", 1)[0] in seen or len(abstract) < 200:
                continue
            seen.add(arxiv_id.rsplit("v", 1)[0])
            title = " ".join(entry.findtext("a:title", "", NS).split())
            out.append(PaperInput(len(out) + 1, arxiv_id, 1, title, ("A. Author",), abstract))
    return tuple(out)


def by_id(arxiv_id: str) -> PaperInput:
    return next(p for p in papers() if p.arxiv_id == arxiv_id)


def parts(s: Summary) -> list[str]:
    return [s.tldr, *s.key_insights]


def _input(abstract: str, title: str = "A paper") -> PaperInput:
    return PaperInput(1, "2401.00001", 1, title, ("A. Author", "B. Author"), abstract)


def test_the_test_data_is_the_real_abstracts() -> None:
    assert len(papers()) >= 25
    assert sum("$" in p.abstract for p in papers()) >= 3  # two with LaTeX, one with a price


# ── the tl;dr is the contribution sentence ───────────────────────────────────


@pytest.mark.parametrize(
    ("arxiv_id", "opening"),
    [
        ("2301.13615", "The authors introduce property-based mutation testing, a method for"),
        ("2502.07719", "The authors introduce OpenCat, a converter that transforms"),
        ("1912.04900", "The authors propose a new method called datamorphic testing"),
        ("2301.05651", "This paper builds on the existing approach of Mutation Testing (MT)"),
        ("2004.03322", "The author presents a method for efficient estimation"),
        ("2005.14124", "In this work, the authors propose active fuzzing"),
    ],
)
def test_the_tldr_is_the_contribution_sentence_not_the_motivation(
    arxiv_id: str, opening: str
) -> None:
    assert extractive(by_id(arxiv_id)).tldr.startswith(opening)


def test_the_contribution_wins_over_a_central_motivation_sentence() -> None:
    abstract = (
        "Fine-tuning large language models is costly: fine-tuning every layer of large language "
        "models needs memory. "
        "Large language models keep growing, so fine-tuning them gets harder each year. "
        "We introduce LoRAX, a method with few trainable parameters. "
        "Experiments on GLUE show LoRAX matches full fine-tuning."
    )
    s = extractive(_input(abstract))
    assert s.tldr == "The authors introduce LoRAX, a method with few trainable parameters."


@pytest.mark.parametrize(
    ("arxiv_id", "motivation"),
    [
        ("1812.11470", "Multiple automated techniques have been proposed"),  # structured abstract
        ("2502.07719", "This paper evaluates the interoperability of SensoDat"),
        ("2301.05651", "We show that the design choice"),
    ],
)
def test_the_real_abstracts_motivation_or_side_result_is_not_the_tldr(
    arxiv_id: str, motivation: str
) -> None:
    tldr = extractive(by_id(arxiv_id)).tldr
    assert not tldr.startswith(motivation) and not tldr.startswith(third_person(motivation))
    assert re.search(r"\b(?:introduce|propose|provide)\b", tldr), tldr


# ── nothing opens by leaning on the sentence before ──────────────────────────


@pytest.mark.parametrize("p", papers(), ids=lambda p: p.arxiv_id)
def test_no_tldr_or_insight_opens_with_a_word_that_leans_on_the_sentence_before(
    p: PaperInput,
) -> None:
    for text in parts(extractive(p)):
        assert not LEANING_OPENINGS.match(text), text
        assert not leans(text), text


def test_leaning_sentences_are_left_out_even_when_they_score_best() -> None:
    abstract = (
        "Scaling laws describe how transformer loss falls with model size. "
        "Above this size, transformer models stop improving with more data. "
        "From this vantage, transformer scaling looks like a data problem. "
        "Despite its simplicity, the transformer scaling rule predicts the loss. "
        "These transformer results hold across model sizes. "
        "However, transformer scaling fails for small models. "
        "We propose a transformer scaling rule fitted on twelve model sizes. "
        "The rule predicts the loss of a model ten times larger within two percent."
    )
    s = extractive(_input(abstract, "Transformer scaling"))
    assert s.tldr == "The authors propose a transformer scaling rule fitted on twelve model sizes."
    said = " ".join(parts(s))
    for leaning in ("this size", "this vantage", "its simplicity", "These transformer results"):
        assert leaning not in said
    # a leading connective is not part of the claim: the sentence stays, without it
    assert "Transformer scaling fails for small models." in s.key_insights
    assert "However" not in said


@pytest.mark.parametrize(
    "sentence",
    [
        "Above this size, models stop improving.",
        "From this vantage, the field looks different.",
        "Despite its simplicity, the method works.",
        "This allows us to compare the definitions.",
        "These results open new perspectives.",
        "Those models fail.",
        "Such models are hard to test.",
        "It is therefore approached as a stochastic problem.",
        "They do not behave like traditional systems.",
        "However, their use poses a challenge.",
        "In such a scenario a mutant is relevant.",
        "This method does not require an initial guess.",
        "Assessing these countermeasures is hard.",
        "The nature of the programs, however, makes them a fit.",
        "The former is faster.",
    ],
)
def test_a_sentence_that_leans_and_cannot_be_repaired_is_refused(sentence: str) -> None:
    assert leans(sentence)
    assert standalone(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "repaired"),
    [
        ("Moreover, we found X.", "we found X."),
        ("In addition, the formula admits two forms.", "The formula admits two forms."),
        ("Furthermore, models improve.", "Models improve."),
        ("Thus we show X.", "we show X."),
        ("Therefore, the bound is tight.", "The bound is tight."),
        ("As such, in this paper, we examine X.", "In this paper, we examine X."),
        ("Here, we present scenarios.", "we present scenarios."),
        ("To address these limitations, we introduce X.", "we introduce X."),
        ("Based on this analysis, we propose a method.", "we propose a method."),
        ("We also report an experiment.", "We report an experiment."),
    ],
)
def test_a_leading_connective_or_purpose_frame_is_dropped(sentence: str, repaired: str) -> None:
    assert standalone(sentence) == repaired[0].upper() + repaired[1:]


@pytest.mark.parametrize(
    "sentence",
    [
        "This paper presents a tool called Morphy.",
        "In this article, we review these testing methods, namely differential and mutation "
        "testing.",
        "It has become crucial to test trained DL models.",  # "It" refers to nothing before
        "Reliance on trained DL models grows, and it is crucial to test these models.",
        "We guide future research in this area.",
        "Tools such as Morphy help.",
    ],
)
def test_a_demonstrative_with_its_antecedent_in_the_sentence_stands_alone(sentence: str) -> None:
    if sentence.startswith("It "):
        assert leans(sentence)  # a leading pronoun is refused: the rule is kept simple
    else:
        assert not leans(sentence)


# ── the first person becomes "the authors" ───────────────────────────────────


@pytest.mark.parametrize("p", papers(), ids=lambda p: p.arxiv_id)
def test_no_offline_summary_says_we_or_our(p: PaperInput) -> None:
    for text in parts(extractive(p)):
        assert not FIRST_PERSON.search(text), text


@pytest.mark.parametrize(
    ("sentence", "rewritten"),
    [
        ("We show that X holds.", "The authors show that X holds."),
        ("In this paper, we derive a formula.", "In this paper, the authors derive a formula."),
        ("Our method is fast.", "The authors' method is fast."),
        ("We evaluate our method.", "The authors evaluate their method."),
        (
            "We found that with few cases we manage to generate HOM.",
            "The authors found that with few cases they manage to generate HOM.",
        ),
        ("This lets us compare our results.", "This lets the authors compare their results."),
        ("From our account we conclude X.", "From the authors' account they conclude X."),
        ("We are the first; ours is new.", "The authors are the first; theirs is new."),
        ("We pit the models against ourselves.", "The authors pit the models against themselves."),
        ("The US and the UK agree.", "The US and the UK agree."),  # not "us"
        ("Users trust us.", "Users trust the authors."),
    ],
)
def test_the_first_person_is_rewritten_as_the_authors(sentence: str, rewritten: str) -> None:
    assert third_person(sentence) == rewritten


@pytest.mark.parametrize(
    ("sentence", "rewritten"),
    [
        ("We show that pooling works.", "The author shows that pooling works."),
        ("We also propose a test.", "The author also proposes a test."),
        ("In this note we study pools.", "In this note the author studies pools."),
        ("We are the first to try.", "The author is the first to try."),
        ("We found that it works.", "The author found that it works."),
        ("We can estimate it.", "The author can estimate it."),
        ("Our estimator is simple.", "The author's estimator is simple."),
        ("This lets us compare.", "This lets the author compare."),
        ("We hence conclude.", ""),  # no verb form to trust: the sentence is left out
    ],
)
def test_a_single_author_is_the_author_with_the_verb_agreeing(
    sentence: str, rewritten: str
) -> None:
    assert third_person(sentence, single_author=True) == rewritten


def test_a_single_authors_offline_summary_never_says_the_authors() -> None:
    [p] = [p for p in papers() if len(p.authors) == 1][:1] or [None]
    assert p is not None, "the fixtures hold a single-author paper (2004.03322)"
    s = extractive(p)
    text = " ".join((s.tldr, *s.key_insights))
    assert "the authors" not in text.lower() and " we " not in f" {text.lower()} "


# ── LaTeX becomes text ───────────────────────────────────────────────────────


@pytest.mark.parametrize("p", papers(), ids=lambda p: p.arxiv_id)
def test_no_offline_summary_contains_latex(p: PaperInput) -> None:
    for text in parts(extractive(p)):
        assert not LATEX.search(text), text


def test_the_latex_of_the_real_abstracts_reads_as_text() -> None:
    s = extractive(by_id("2403.16981"))
    assert "(i) all 0 ≤ α, β ≤ 1/8 in the prior-free setting; and (ii) all δ ≤ π/4" in s.tldr
    insights = " ".join(s.key_insights)
    assert "Jensen–Shannon" in insights and "f-divergence" in insights
    pool = " ".join(parts(extractive(by_id("2004.03322"))))
    assert "only 50 tests" in pool and "25% accuracy" in pool


def test_latex_in_an_abstract_is_turned_into_readable_text() -> None:
    abstract = (
        r"We propose \emph{FlashMix}, which cuts the $O(L^2)$ cost of attention to $O(L)$ "
        r"for all $\alpha \le 1/2$. "
        r"On \textbf{50} benchmarks it is $25\%$ faster than the Jensen--Shannon baseline at "
        r"$10^{-3}$ error."
    )
    s = extractive(_input(abstract, "FlashMix"))
    assert s.tldr == (
        "The authors propose FlashMix, which cuts the O(L²) cost of attention to O(L) "
        "for all α ≤ 1/2."
    )
    assert s.key_insights == (
        "On 50 benchmarks it is 25% faster than the Jensen–Shannon baseline at 10⁻³ error.",
    )


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"$O(L^2)$", "O(L²)"),
        (r"O($L^2$)", "O(L²)"),
        (r"$\alpha$", "α"),
        (r"\emph{x}", "x"),
        (r"\textbf{x}", "x"),
        (r"$50$ tests", "50 tests"),
        (r"25\% of", "25% of"),
        (r"$25\%$ accuracy", "25% accuracy"),
        (r"$0 \le α, β\le 1/8$", "0 ≤ α, β ≤ 1/8"),
        (r"Jensen--Shannon", "Jensen–Shannon"),
        (r"i.i.d.\ samples", "i.i.d. samples"),
        (r"$x_{ij}^{2}$", "xᵢⱼ²"),
        (r"$\mathrm{softmax}(QK^\top)$", "softmax(QKᵀ)"),
        (r"$e^{-\lambda t}$", "e^(-λt)"),  # no superscript λ: kept readable
        (r"$\mathcal{O}(n \log n)$", "𝒪(n log n)"),
        (r"$\sim$10x faster", "∼10x faster"),
        (r"``Holy Trinity''", "“Holy Trinity”"),
        (r"Caf\'e", "Café"),
        (r"as shown \cite{smith}.", "as shown."),
        (r"see \href{https://example.org}{the site}", "see the site"),
        (r"(1^{+1.39}_{-0.59}) for HJs", "(1^(+1.39)_(-0.59)) for HJs"),
        # plain text stays as it is
        ("awarded $35,000 in total", "awarded $35,000 in total"),
        ("between $5 and $10 each", "between $5 and $10 each"),
        ("25% accuracy & 3 # of ~10x", "25% accuracy & 3 # of ~10x"),
        ("A plain sentence, nothing else.", "A plain sentence, nothing else."),
    ],
)
def test_readable(latex: str, text: str) -> None:
    assert readable(latex) == text


def test_malformed_latex_never_reaches_the_reader() -> None:
    out = readable(r"see \href{x} and \textbf{bold")
    assert "\\" not in out and "{" not in out and "bold" in out


# ── no sentence is cut ───────────────────────────────────────────────────────


@pytest.mark.parametrize("p", papers(), ids=lambda p: p.arxiv_id)
def test_no_offline_summary_cuts_a_sentence(p: PaperInput) -> None:
    s = extractive(p)
    assert s.tldr and len(s.tldr) <= TLDR_LIMIT
    for text in parts(s):
        assert "…" not in text, text
        assert re.search(r"[.!?][\"'”)]*$", text), text  # a whole sentence
    for k in s.key_insights:
        assert len(k) <= INSIGHT_LIMIT


def test_a_sentence_too_long_for_its_place_is_left_out_not_cut() -> None:
    long = "We propose " + "a very long method name and " * 20 + "more."
    abstract = f"{long} The method is fast. It is also simple. Experiments show a 2% gain."
    s = extractive(_input(abstract))
    assert s.tldr == "The method is fast."
    assert s.key_insights == ("Experiments show a 2% gain.",)


def test_when_no_sentence_stands_alone_the_abstracts_first_sentence_is_the_tldr() -> None:
    abstract = "It is hard to test ranking models. This makes our CI slow. Such tests fail."
    s = extractive(_input(abstract))
    assert s.tldr == "It is hard to test ranking models."  # nothing before it to lean on
    assert s.key_insights == ()


def test_the_offline_summary_is_deterministic() -> None:
    for p in papers():
        assert extractive(p) == extractive(p)
        assert extractive(p).offline and extractive(p).why_it_matters is None


def test_an_acronym_is_written_out_where_the_summary_first_uses_it() -> None:
    from bot.digest.offline_acronyms import definitions, explain_on_first_use

    source = (
        "Test case prioritisation (TCP) is hard. Testing techniques such as Mutation "
        "Testing (MT) help. We use Rao score (RS) tests on vision-based systems (VBS)."
    )
    assert definitions(source) == {
        "TCP": "test case prioritisation",  # capitalised only as a sentence start
        "MT": "Mutation Testing",
        "RS": "Rao score",
        "VBS": "vision-based systems",
    }
    out = explain_on_first_use(
        ["The authors extend MT to VBS.", "MT is cheap. Mutation Testing (MT) helps."], source
    )
    assert out == [
        "The authors extend Mutation Testing (MT) to vision-based systems (VBS).",
        "MT is cheap. Mutation Testing helps.",  # explained once, where first met
    ]


@pytest.mark.parametrize("p", papers(), ids=lambda p: p.arxiv_id)
def test_every_acronym_in_an_offline_summary_is_explained_once(p: PaperInput) -> None:
    from bot.digest.offline_acronyms import definitions

    s = extractive(p)
    text = " ".join((s.tldr, *s.key_insights))
    for acronym in definitions(readable(p.abstract)):
        uses = [m.start() for m in re.finditer(rf"(?<![\w(]){re.escape(acronym)}(?![\w)])", text)]
        explained = text.count(f"({acronym})")
        if uses or explained:
            assert explained == 1, (acronym, text)
            assert not uses or text.index(f"({acronym})") < uses[0], (acronym, text)
