"""An in-memory search index: accent- and case-blind tokens, prefixes, and small misspellings.

Analysts type "Merida" for "Mérida" and "fentanil" for "fentanyl"; a name
match outranks an alternative name, which outranks a definition, which
outranks a sentence of a report. Misspellings are found with a deletion
neighbourhood (the SymSpell idea), so a query costs a few dictionary lookups
rather than a scan of the vocabulary.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from kg.errors import KgError
from kg.namespaces import PREFIXES

FIELD_WEIGHTS = {"name": 1.0, "alternative name": 0.9, "definition": 0.45, "text": 0.35}
TERM_WEIGHT = 0.6  # ontology terms rank below the things of the graph
PREFIX_LIMIT = 200  # vocabulary words a short prefix may stand for
SNIPPET = 90  # characters either side of a match in a long text
MAX_TEXT = 500  # characters of a search text: a visitor's text is searched in the server's own process
MAX_WORDS = 32  # words of a search text
_TOKEN = re.compile(r"[a-z0-9]+")
# Words that say nothing of what is sought; dropped when the query has others.
STOPWORDS = frozenset(
    """a an and are as at be by did does for from how in is it of on or says say that
    the to was what which who""".split()
)


def normalize(text: str) -> str:
    """Lower case, accents dropped, punctuation as spaces: 'Mérida' and 'merida' are one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_TOKEN.findall(plain))


class TooLong(KgError, ValueError):
    """A search text longer than the index searches."""


def check_length(text: str) -> None:
    """Refuse a text longer than MAX_TEXT characters or MAX_WORDS words: each word is looked up with its
    prefixes and misspellings in every field, so a hundred short words cost a hundred searches."""
    if len(text) > MAX_TEXT:
        raise TooLong(f"the search text is {len(text)} characters long; at most {MAX_TEXT} are searched")
    if (count := len(tokens(text))) > MAX_WORDS:
        raise TooLong(f"the search text has {count} words; at most {MAX_WORDS} are searched")


def tokens(text: str) -> list[str]:
    return normalize(text).split()


def allowed_edits(word: str) -> int:
    """Misspellings tolerated in a word: none in short words, where they would match anything."""
    return 0 if len(word) < 4 else 1 if len(word) < 7 else 2


def _deletes(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once), or limit + 1 once it is exceeded."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class Field:
    """One searchable text of an entry: its kind (name, alternative name, definition, text)."""

    kind: str
    text: str
    normalized: str
    words: tuple[str, ...]  # `distinct_words` of `normalized`


def distinct_words(normalized: str) -> tuple[str, ...]:
    """The distinct words of a normalized text, each the one copy of that word (interned) in a tuple:
    at a million triples the index's 98,618 texts held their words as sets of strings of their own,
    184 MB more for a vocabulary of 1,201 words."""
    return tuple(sorted(set(map(sys.intern, normalized.split()))))


@dataclass(slots=True)
class Entry:
    """Everything the index knows of one IRI."""

    iri: str
    kind: str = "other"
    fields: list[Field] = field(default_factory=list)

    @property
    def label(self) -> str:
        for wanted in ("name", "alternative name", "text", "definition"):
            for item in self.fields:
                if item.kind == wanted:
                    return item.text
        return self.iri


@dataclass(frozen=True)
class Hit:
    """One answer to a search: what it is, why it matched, and how well."""

    iri: str
    label: str
    kind: str
    score: float
    matched: str  # the field that matched: name, alternative name, definition, text
    snippet: str  # the matching text, cut around the match when long

    def as_json(self) -> dict[str, object]:
        return {
            "iri": self.iri,
            "label": self.label,
            "kind": self.kind,
            "score": round(self.score, 2),
            "matched": self.matched,
            "snippet": self.snippet,
        }


@dataclass
class SearchResult:
    """The ranked hits; the words read as others; and, when nothing matched, what the graph holds nearby."""

    query: str
    hits: list[Hit]
    read_as: dict[str, str] = field(default_factory=dict)
    nearby: list[tuple[Hit, list[Hit]]] = field(default_factory=list)  # a matching term and its instances
    holdings: dict[str, int] = field(default_factory=dict)  # entries per kind, said when nothing matched
    partial: str = ""  # why only the things named exactly so were looked for, when the index was out of reach
    some_words: bool = False  # no thing holds every word: the hits hold most of them
    total: int = 0  # things matching in all, of which `hits` are the first
    counts: dict[str, int] = field(default_factory=dict)  # things matching of each kind, in all

    def keep(self, hits: list[Hit], limit: int) -> None:
        """The first `limit` of `hits` as the answer's, and how many there are in all and of each kind:
        a page showing fifty called them all, and counted its kinds over the first hundred."""
        self.hits = hits[:limit]
        self.total = len(hits)
        self.counts = dict(Counter(hit.kind for hit in hits))

    def as_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "hits": [hit.as_json() for hit in self.hits],
            "read_as": self.read_as,
            "nearby": [
                {"term": term.as_json(), "instances": [hit.as_json() for hit in instances]}
                for term, instances in self.nearby
            ],
            "holdings": self.holdings,
            "partial": self.partial or None,
            "some_words": self.some_words,
            "total": self.total,
            "counts": self.counts,
        }


class SearchIndex:
    """Entries by IRI, an inverted index of words, and a deletion neighbourhood for misspellings.

    A word's postings are the numbers of its entries (their places in `numbered`) in an array of
    4-byte integers: at a million triples sets of IRIs held 1.4 million references, about half of the
    index's memory."""

    def __init__(self, entries: Iterable[Entry], instances: dict[str, list[str]] | None = None) -> None:
        self.entries = {entry.iri: entry for entry in entries if entry.fields}
        self.numbered = list(self.entries.values())
        self.instances = instances or {}  # class IRI -> the IRIs of its instances
        numbers: dict[str, set[int]] = defaultdict(set)
        for number, entry in enumerate(self.numbered):
            for item in entry.fields:
                for word in item.words:
                    numbers[word].add(number)
        self.postings = {word: array("I", sorted(found)) for word, found in numbers.items()}
        del numbers
        self.vocabulary = sorted(self.postings)
        self.longest = max(map(len, self.vocabulary), default=0)
        self.neighbours: dict[str, set[str]] = defaultdict(set)
        for word in self.vocabulary:
            for variant in _deletes(word, allowed_edits(word)):
                self.neighbours[variant].add(word)

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for entry in self.entries.values():
            counts[entry.kind] += 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    def _variants(self, word: str, last: bool) -> dict[str, float]:
        """Vocabulary words `word` may stand for, with how much each is worth (1 for itself)."""
        found: dict[str, float] = {}
        if word in self.postings:
            found[word] = 1.0
        if last or len(word) >= 4:
            start = bisect.bisect_left(self.vocabulary, word)
            for other in self.vocabulary[start : start + PREFIX_LIMIT]:
                if not other.startswith(word):
                    break
                found.setdefault(other, 0.75)
        limit = allowed_edits(word)
        # a word longer than every word of the index by more than its edits is no misspelling of one,
        # and its deletions grow with the cube of its length
        if word not in self.postings and limit and len(word) - limit <= self.longest:
            candidates = set()
            for variant in _deletes(word, limit):
                candidates |= self.neighbours.get(variant, set())
            for other in candidates:
                distance = edit_distance(word, other, limit)
                if distance <= limit:
                    found.setdefault(other, 0.7 - 0.1 * distance)
        return found

    def search(self, text: str, kinds: Iterable[str] = (), limit: int = 20) -> SearchResult:
        """Entries matching every word of `text` (of the given kinds), best first, or the one entry a
        full IRI names; how many match in all, and of each kind; TooLong past MAX_TEXT characters or
        MAX_WORDS words."""
        check_length(text)
        wanted = set(kinds)
        result = SearchResult(text, [])
        named = self._named_by_iri(text)
        if named is not None:
            hits = [named] if not wanted or named.kind in wanted else []
        else:
            hits = self._word_hits(text, wanted, result)
        result.keep(hits, limit)
        if not any(hit.kind != "term" for hit in result.hits):
            if not wanted:
                result.nearby = [(term, self._instances(term.iri)) for term in result.hits]
                result.nearby = [(term, found) for term, found in result.nearby if found]
            if not result.nearby:  # said also when no word of the text could be searched (`*`, `((`)
                result.holdings = self.kinds()
        return result

    def _named_by_iri(self, text: str) -> Hit | None:
        """The entry `text` names by its full IRI (bare or in angle brackets), or by the short name the
        pages show it by (`country:US`, the project's prefix and the IRI's end): the words (`https`,
        `w3id`, `org`, `country`, `us`) found nothing, or everything."""
        iri = text.strip().removeprefix("<").removesuffix(">").strip()
        prefix, colon, local = iri.partition(":")
        if iri not in self.entries and colon and prefix in PREFIXES and not any(c.isspace() for c in local):
            iri = PREFIXES[prefix] + local
        entry = self.entries.get(iri)
        return None if entry is None else Hit(iri, entry.label, entry.kind, 100.0, "IRI", iri)

    def _word_hits(self, text: str, wanted: set[str], result: SearchResult) -> list[Hit]:
        """Every entry matching the words of `text`, best first; the words read as others, and whether
        the hits hold only some of the words, noted in `result`."""
        words = [w for w in tokens(text) if w not in STOPWORDS] or tokens(text)
        if not words:
            return []
        variants = [self._variants(word, i == len(words) - 1) for i, word in enumerate(words)]
        for word, found in zip(words, variants, strict=True):
            if word not in self.postings and found:
                best = max(found, key=lambda other: (found[other], -abs(len(other) - len(word))))
                if found[best] < 0.75:
                    result.read_as[word] = best
        matching = [set().union(*(self.postings[o] for o in found)) if found else set() for found in variants]
        query = " ".join(words)
        # Rare words weigh more: "China" says more of a sentence than "source".
        weights = [math.log(1 + len(self.entries) / (1 + len(found))) for found in matching]
        weighted = [(found, weight) for found, weight in zip(variants, weights, strict=True)]
        hits = self._hits(set.intersection(*matching), query, weighted, wanted, len(words))
        if len(words) > 1 and not any(hit.kind != "term" for hit in hits):
            # No thing has every word: those with most of them (one of two), for a question typed as a
            # sentence or a name with a word the graph does not use ("Sinaloa cartel").
            hits = self._hits(set.union(*matching), query, weighted, wanted, (len(words) + 1) // 2)
            result.some_words = bool(hits)
        return hits

    def _hits(
        self,
        candidates: set[int],
        query: str,
        variants: list[tuple[dict[str, float], float]],
        wanted: set[str],
        needed: int,
    ) -> list[Hit]:
        hits = []
        for number in candidates:
            entry = self.numbered[number]
            if wanted and entry.kind not in wanted:
                continue
            hit = self._score(entry, query, variants, needed)
            if hit:
                hits.append(hit)
        # the IRI last: two things of one label and score (kg:Report, schema:Report) in one order always
        hits.sort(key=lambda hit: (-hit.score, len(hit.label), hit.label, hit.iri))
        return hits

    def _instances(self, class_iri: str, limit: int = 10) -> list[Hit]:
        found = []
        for iri in self.instances.get(class_iri, [])[:limit]:
            entry = self.entries.get(iri)
            if entry:
                found.append(Hit(iri, entry.label, entry.kind, 0.0, "type", ""))
        return found

    def _score(
        self, entry: Entry, query: str, variants: list[tuple[dict[str, float], float]], needed: int
    ) -> Hit | None:
        """The entry's best field: whole-name matches first, then the share of words matched, by rarity."""
        best: tuple[float, Field] | None = None
        total = sum(weight for _, weight in variants)
        for item in entry.fields:
            # by the field's words: a short prefix stands for up to PREFIX_LIMIT words
            worth = [max((found[w] for w in item.words if w in found), default=0.0) for found, _ in variants]
            if sum(1 for value in worth if value) < needed:
                continue
            if item.normalized == query:
                base = 100.0
            elif item.normalized.startswith(query):
                base = 80.0
            else:
                share = (
                    sum(value * weight for value, (_, weight) in zip(worth, variants, strict=True)) / total
                )
                base = 60.0 * share - min(len(item.words), 40) * 0.1
            score = base * FIELD_WEIGHTS[item.kind] * (TERM_WEIGHT if entry.kind == "term" else 1.0)
            if best is None or score > best[0]:
                best = (score, item)
        if best is None:
            return None
        score, item = best
        words = [w for found, _ in variants for w in found if w in item.words]
        return Hit(entry.iri, entry.label, entry.kind, score, item.kind, snippet(item.text, words))


def snippet(text: str, words: list[str]) -> str:
    """A long text cut to the neighbourhood of its first matching word."""
    if len(text) <= 2 * SNIPPET:
        return text
    plain = unicodedata.normalize("NFKD", text.casefold())
    position = min((p for w in words if (p := plain.find(w)) >= 0), default=0)
    start = max(0, position - SNIPPET)
    end = min(len(text), position + SNIPPET)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
