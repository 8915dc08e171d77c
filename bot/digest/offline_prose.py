"""An abstract's sentence made to stand on its own as a tl;dr or a key insight.

A sentence taken out of an abstract *leans* on the one before it when it opens
with a discourse connective ("However", "Moreover", "Thus") or an anaphoric
pronoun ("It", "They", "This allows…"), or when a demonstrative ("this size",
"these models", "such a scenario") points at a noun that the sentence itself
never names. :func:`standalone` repairs what can be repaired without changing
what the sentence claims, and refuses the rest:

- a leading connective is dropped: connectives relate a sentence to its
  neighbour but are not part of what it asserts ("Moreover, we found X" → "we
  found X");
- a leading purpose or basis frame that points back is dropped too ("To address
  these limitations, we introduce X" → "we introduce X"; "Based on this
  analysis, …"): it says why the main clause was done, not when it holds;
- anything else that leans is refused: a restrictive phrase ("Above this size,
  models fail") cannot be dropped without changing the claim.

:func:`third_person` then rewrites the first person as the authors: the first
mention in a sentence names them ("We show" → "The authors show", "Our
approach" → "The authors' approach"), later ones are pronouns ("we" → "they",
"our" → "their", "us" → "them"). "We" and "the authors" are both plural, so no
verb changes.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Discourse connectives: dropping one leaves the sentence's own claim intact.
#: Those that also start ordinary phrases ("Still images", "As such models")
#: count only when a comma follows.
_CONNECTIVES = _words(
    "however moreover furthermore additionally also besides notably importantly crucially "
    "specifically finally lastly thus hence therefore consequently accordingly nevertheless "
    "nonetheless conversely similarly likewise meanwhile indeed overall instead "
    "interestingly surprisingly unfortunately ultimately altogether"
)
_CONNECTIVES_COMMA = (
    "in addition|in particular|as a result|as such|in contrast|by contrast|on the other hand|"
    "on the contrary|at the same time|in fact|in other words|that is|namely|for example|"
    "for instance|in summary|in short|to summarize|in turn|here|here too|again|further|first|"
    "firstly|second|secondly|third|thirdly|next|then|still|yet|so|but|and|or|otherwise|"
    "in doing so|by doing so|in this way|in this regard|to conclude|in conclusion"
)
_LEAD_CONNECTIVE = re.compile(
    rf"^(?:(?:{'|'.join(sorted(_CONNECTIVES))})\b,?|(?:{_CONNECTIVES_COMMA}),)\s+", re.IGNORECASE
)
#: Frames that give the purpose or basis of what follows ("To address these
#: limitations, …"); dropped with their comma when a clause follows.
_LEAD_FRAME = re.compile(
    r"^(?:to (?:address|tackle|overcome|solve|fill|bridge|close|remedy|mitigate|alleviate|"
    r"handle|meet|answer|achieve|do|this|that)\b|based on|building (?:on|upon)|motivated by|"
    r"inspired by|with (?:this|these) in mind|in (?:light|view|response) of|in response|"
    r"given (?:this|these|that)|for this purpose|following (?:this|these))[^,;:]{0,120},\s+",
    re.IGNORECASE,
)
#: What a clause may start with once a frame is dropped.
_CLAUSE_START = re.compile(r"^(?:we|our|this (?:paper|work|article|study)|the|a|an)\b|^[A-Z]")
_PRONOUNS = _words("it its they their them theirs he she his her this these those such")
_DEMONSTRATIVE = frozenset({"this", "these", "those", "such"})
#: Nouns that make "this …" point at the document itself, not at a prior sentence.
_SELF = _words(
    "paper papers work article study thesis report note letter survey review tutorial "
    "chapter manuscript position abstract"
)
#: Words after "this"/"these" that show a pronoun, not a determiner ("this allows").
_NOT_NOUN = _words(
    "is are was were be been can could will would may might should must has have had does do "
    "did and or but to in of with for by on at as that which we it allows allow enables enable "
    "means leads lead makes make yields yield gives give shows show suggests suggest indicates "
    "indicate implies imply provides provide requires require raises raise results result "
    "motivates motivate opens open helps help not also"
)
#: Nouns that, after the sentence's first words, point at the sentence's own
#: subject matter ("… future research in this area").
_TOPIC = _words("area field domain direction topic regard line space")
#: A connective inside the sentence ("X, however, is Y") relates it to another.
_INNER_CONNECTIVE = re.compile(
    r",\s*(?:however|therefore|thus|hence|in turn|moreover|furthermore|consequently|though),",
    re.IGNORECASE,
)
_STOP = _words("a an the of and or to in on for with by from as at is are be")
#: What may follow a demonstrative's noun phrase to name its referent in the
#: same sentence ("these methods, namely A and B").
_CATAPHORA = re.compile(r"^\s*(?:,\s*)?(?:namely|i\.e\.|e\.g\.|such as|including|:|\()")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_LEAD_PHRASE_WORDS = 10


def _stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ies", "es", "s"):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


def leans(sentence: str) -> bool:
    """Whether the sentence needs the one before it to be understood."""
    s = sentence.strip().lstrip("\"'“(")
    if _LEAD_CONNECTIVE.match(s) or _LEAD_FRAME.match(s):
        return True
    if _INNER_CONNECTIVE.search(s):
        return True
    words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(s)]
    if not words:
        return False
    low = [w.lower() for w, _, _ in words]
    if low[0] in ("the", "a") and len(low) > 1 and low[1] in ("former", "latter", "same", "above"):
        return True
    if low[0] in _PRONOUNS - _DEMONSTRATIVE:
        return True
    # A leading phrase ("Despite its simplicity, …", "From this vantage, …")
    # with a pronoun in it leans on what came before.
    comma = s.find(",")
    head = s[:comma] if comma > 0 else ""
    if head and len(_WORD.findall(head)) <= _LEAD_PHRASE_WORDS:
        for w in _WORD.findall(head):
            if w.lower() in _PRONOUNS - _DEMONSTRATIVE:
                return True
    for i, (_w, _start, end) in enumerate(words):
        lw = low[i]
        if lw not in _DEMONSTRATIVE:
            continue
        nxt = low[i + 1] if i + 1 < len(low) else ""
        if (lw == "such" and nxt in ("as", "that")) or (lw == "those" and i > 0):
            continue  # "tools such as X"; "… with those predicted by …" (the ones named before)
        if not nxt or nxt in _NOT_NOUN or s[end : end + 1] in ",.;:":
            return True  # "this" used as a pronoun ("This allows…", "…than this.")
        if nxt in _SELF or (i > 2 and nxt in _TOPIC):
            continue
        if lw == "such" and nxt in ("a", "an"):
            nxt = low[i + 2] if i + 2 < len(low) else ""
        phrase: list[str] = []
        phrase_end = end
        for j in range(i + 1, min(i + 4, len(words))):
            if low[j] in _STOP or low[j] in _NOT_NOUN:
                break
            phrase.append(low[j])
            phrase_end = words[j][2]
            if s[phrase_end : phrase_end + 1] in ",.;:()":
                break
        if not phrase:
            return True
        if _SELF & set(phrase):
            continue  # "this systematic review"
        before = {_stem(x) for x in low[:i]}
        if any(_stem(x) in before for x in phrase):
            continue  # "… trained DL models … these models"
        if _CATAPHORA.match(s[phrase_end:]):
            continue  # "these methods, namely A and B"
        return True
    return False


def standalone(sentence: str) -> str | None:
    """The sentence repaired to stand alone, or None when it cannot be."""
    s = sentence.strip()
    for _ in range(4):
        m = _LEAD_CONNECTIVE.match(s) or _LEAD_FRAME.match(s)
        if not m:
            break
        rest = s[m.end() :]
        if not rest or (m.re is _LEAD_FRAME and not _CLAUSE_START.match(rest)):
            return None
        s = rest[0].upper() + rest[1:]
    s = re.sub(r"^(We|we)\s+also\b", r"\1", s)  # "We also report" once "also" has nothing before it
    if leans(s):
        return None
    return s


_FIRST_PERSON = re.compile(r"\b(We|we|Our|our|Ours|ours|Us|us|Ourselves|ourselves)\b")
_FIRST = {"we": "the authors", "us": "the authors", "our": "the authors'", "ours": "the authors'"}
_FIRST_SINGULAR = {"us": "the author", "our": "the author's", "ours": "the author's"}
_LATER = {"we": "they", "us": "them", "our": "their", "ours": "theirs", "ourselves": "themselves"}


#: After "we" in a single author's abstract: the verbs that take an -s with
#: "the author", and the auxiliaries that change form.
_SINGULAR_AUX = {"are": "is", "were": "was", "have": "has", "do": "does"}
_MODALS = frozenset(["can", "could", "will", "would", "may", "might", "must", "should", "shall"])
_ADVERBS = frozenset(
    [
        "also",
        "further",
        "then",
        "first",
        "here",
        "now",
        "finally",
        "additionally",
        "thus",
        "therefore",
    ]
)
_PAST = frozenset(
    [
        "found",
        "made",
        "built",
        "gave",
        "took",
        "saw",
        "wrote",
        "ran",
        "chose",
        "got",
        "began",
        "drew",
    ]
)
_VERBS = frozenset(
    [
        "address",
        "adapt",
        "aim",
        "analyse",
        "analyze",
        "apply",
        "argue",
        "assess",
        "believe",
        "benchmark",
        "build",
        "calculate",
        "call",
        "characterise",
        "characterize",
        "claim",
        "collect",
        "combine",
        "compare",
        "compute",
        "conduct",
        "consider",
        "construct",
        "contribute",
        "define",
        "demonstrate",
        "derive",
        "describe",
        "design",
        "detect",
        "determine",
        "develop",
        "discover",
        "discuss",
        "employ",
        "establish",
        "estimate",
        "evaluate",
        "examine",
        "expect",
        "explain",
        "explore",
        "extend",
        "find",
        "focus",
        "formulate",
        "generalise",
        "generalize",
        "give",
        "highlight",
        "hope",
        "identify",
        "illustrate",
        "implement",
        "improve",
        "infer",
        "introduce",
        "investigate",
        "learn",
        "leverage",
        "make",
        "measure",
        "model",
        "note",
        "observe",
        "obtain",
        "offer",
        "outline",
        "perform",
        "predict",
        "present",
        "propose",
        "prove",
        "provide",
        "quantify",
        "reduce",
        "release",
        "report",
        "reveal",
        "seek",
        "show",
        "solve",
        "study",
        "suggest",
        "summarise",
        "summarize",
        "survey",
        "take",
        "test",
        "train",
        "use",
    ]
)


def _third_singular(verb: str) -> str:
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def _as_the_author(rest: str) -> str | None:
    """The words after a single author's first "we", agreeing with "the
    author"; None when the verb's form cannot be told (the sentence is then
    left out rather than left ungrammatical)."""
    m = re.match(r"(\s+)([A-Za-z]+)", rest)
    if m is None:
        return None
    word = m.group(2)
    low = word.lower()
    if low in _SINGULAR_AUX:
        return m.group(1) + _SINGULAR_AUX[low] + rest[m.end() :]
    if low in _VERBS:
        return m.group(1) + _third_singular(low) + rest[m.end() :]
    if low in _MODALS or low in _PAST or low.endswith("ed"):
        return rest
    if low in _ADVERBS:  # "we also show" → "the author also shows"
        tail = _as_the_author(rest[m.end() :])
        return None if tail is None else m.group(1) + word + tail
    return None


def third_person(sentence: str, *, single_author: bool = False) -> str:
    """``sentence`` with "we", "our" and "us" rewritten as the authors (as
    "the author" for a paper by one person, with the verb agreeing: "We show"
    → "The author shows"). "" when a single author's verb cannot be made to
    agree: the caller leaves the sentence out."""
    if single_author:
        m = re.search(r"\b(We|we)\b", sentence)
        first = _FIRST_PERSON.search(sentence)
        if m is not None and first is not None and first.start() == m.start():
            rest = _as_the_author(sentence[m.end() :])
            if rest is None:
                return ""
            at_start = not sentence[: m.start()].strip(" \"'“(")
            head = "The author" if at_start else "the author"
            sentence = sentence[: m.start()] + "\x00" + rest
            out = _rewrite(sentence, named=True, singular=True)
            return out.replace("\x00", head)
        return _rewrite(sentence, named=False, singular=True)
    return _rewrite(sentence, named=False, singular=False)


def _rewrite(sentence: str, *, named: bool, singular: bool) -> str:
    first = _FIRST_SINGULAR if singular else _FIRST

    def repl(m: re.Match[str]) -> str:
        nonlocal named
        word = m.group(1).lower()
        out = _LATER[word] if named or word not in first else first[word]
        named = True
        at_start = not sentence[: m.start()].strip(" \"'“(\x00")
        return out[0].upper() + out[1:] if at_start else out

    return _FIRST_PERSON.sub(repl, sentence)
