"""The graph says what the report says, no more: attribution, hedges, places and distinctions.

Each test scans every excerpt of the built dataset for a class of wording (an
attribution, a hedge) and checks the facts quoting it. The tables below account
for every occurrence found, so a new excerpt with such wording fails until its
facts are checked against it.
"""

from __future__ import annotations

import re

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS

from kg.evidence.facts import evidence_for
from kg.namespaces import KG, OA, graph_iri
from kg.search.load import store_select

ID = "https://w3id.org/opioid-kg/id/"
PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
PROV_ATTRIBUTED = URIRef("http://www.w3.org/ns/prov#wasAttributedTo")
QUALIFIER_PROPERTIES = tuple(
    KG[name]
    for name in (
        "qualifier",
        "originQualifier",
        "substanceQualifier",
        "causeQualifier",
        "effectQualifier",
        "methodQualifier",
        "relativeVolume",
    )
)

# ---------------------------------------------------------------------------------------------
# Attribution: "according to", "estimates", "reported", "data from", "suspects", "website of".
# ---------------------------------------------------------------------------------------------

ATTRIBUTION = re.compile(r"according to|estimates|reported|data from|suspects|website of", re.IGNORECASE)

# Excerpt -> the agents its attribution names (a document's publisher when it names a document).
NAMED_AGENTS: dict[str, set[str]] = {
    "global-cultivation-2017": {"unodc"},
    "cultivation-2017": {"ondcp"},
    "heroin-production": {"ondcp"},
    "swb-seizures-doubled": {"cbp"},
    "eradication-2017": {"mx-defense-ministry"},
    "opium-gum-seizures": {"mx-defense-ministry"},
    "fentanyl-availability": {"dea"},
    "precursors-from-us": {"dea"},
    "us-training-seizures": {"us-state-department"},
    "figure-1-credits": {"ondcp", "us-government", "us-state-department", "esri", "delorme"},
}

# ---------------------------------------------------------------------------------------------
# Hedges: each word, each occurrence, in each excerpt -> what keeps it in the graph.
#   ("qualifier", fact, qualifier)    the fact carries the qualifier (on any qualifier property)
#   ("value", fact, property, value)  the fact keeps the word as this value (a period, a year)
#   ("literal", fact, property, text) the fact keeps the word verbatim in this literal
#   ("not a hedge", reason)
# ---------------------------------------------------------------------------------------------

HEDGE = re.compile(
    r"\b(may|might|can|could|suspects?|suspected|likely|some|most|many|primarily|largely|main|generally"
    r"|estimates?|estimated|about|nearly|more\s+than|exceeded|less than|majority|much lesser extent"
    r"|difficult to determine precisely|manufacture or diversion|possible|until recently|recent decades"
    r"|now|since)\b",
    re.IGNORECASE,
)

CHINA_FLOWS = [
    f"flow/{slug}"
    for slug in (
        "china-mexico-us-fentanyl",
        "china-canada-us-fentanyl",
        "china-us-fentanyl-direct-mail",
        "china-mexico-us-fentanyl-precursors-and-analogues",
        "china-canada-us-fentanyl-precursors-and-analogues",
        "china-us-fentanyl-precursors-and-analogues-direct-mail",
    )
]
CHINA_SOURCES = [
    "production-site/china-fentanyl-production",
    "production-site/china-fentanyl-precursors-and-analogues",
]
QUESTIONS = [
    f"question/{slug}"
    for slug in (
        "us-role-in-foreign-supply-reduction",
        "criminal-competition-and-violence",
        "fentanyl-effect-on-poppy-and-markets",
        "trade-and-immigration-tensions",
        "lopez-obrador-policies",
    )
]
HEROIN_ESTIMATES = [
    "observation/mx-potential-heroin-production-2016",
    "observation/mx-potential-heroin-production-2017",
    "change/mx-potential-heroin-production-2016-2017",
]
REPORT = "document/crs-2018-heroin-fentanyl-mexico"


def q(facts: list[str] | str, qualifier: str) -> list[tuple]:
    return [("qualifier", fact, qualifier) for fact in ([facts] if isinstance(facts, str) else facts)]


HEDGES: dict[tuple[str, str, int], list[tuple]] = {
    ("asian-heroin", "can", 1): q(
        ["flow/southwest-asia-us-heroin", "flow/southeast-asia-us-heroin"], "occasional"
    ),
    ("asian-heroin", "main", 1): q("flow/latin-america-us-heroin", "main"),
    ("asian-heroin", "recent decades", 1): [
        ("value", "flow/latin-america-us-heroin", KG.period, ID + "period/recent-decades")
    ],
    ("cultivation-zones", "much lesser extent", 1): q(
        "cultivation-site/oaxaca-opium-poppy", "much-lesser-extent"
    ),
    ("decriminalization-proposal", "some", 1): q(
        ["stance/advisers-propose-decriminalization", "stance/advisers-propose-drug-policy-reforms"], "some"
    ),
    ("decriminalization-proposal", "some", 2): q("policy/lopez-obrador-advisers-drug-policy-reforms", "some"),
    ("decriminalization-proposal", "likely", 1): q("stance/us-officials-oppose-decriminalization", "likely"),
    ("disagreements", "some", 1): q("finding/bilateral-cooperation-has-yielded-some-results", "some"),
    ("disclaimer-reproduction", "may", 1): [("literal", REPORT, DCTERMS.rights, "May be reproduced")],
    ("disclaimer-third-party", "may", 1): [("literal", REPORT, DCTERMS.rights, "May include")],
    ("disclaimer-third-party", "may", 2): [("literal", REPORT, DCTERMS.rights, "may be needed")],
    ("dod-support", "about", 1): q("observation/dod-counternarcotics-support-mexico-fy2017", "approximate"),
    ("eradication-challenges", "many", 1): q("situation/eradication-challenges", "many"),
    ("eradication-challenges", "can", 1): q("situation/eradication-challenges", "possible"),
    ("eradication-history", "since", 1): [
        ("value", "policy/manual-poppy-eradication", KG.startedDuring, ID + "period/1930s")
    ],
    ("eradication-history", "primarily", 1): q("policy/manual-poppy-eradication", "primarily"),
    ("fentanyl-sources", "most", 1): q(
        [f for f in CHINA_FLOWS + CHINA_SOURCES if "precursors-and-analogues" in f], "most"
    ),
    ("fentanyl-sources", "primarily", 1): q(CHINA_FLOWS + CHINA_SOURCES, "primarily"),
    ("global-cultivation-2017", "since", 1): [
        ("literal", "change/world-poppy-cultivation-2017-record", KG.highestSince, "2000")
    ],
    ("global-cultivation-2017", "largely", 1): q("change/world-poppy-cultivation-2017-record", "primarily"),
    ("heroin-production", "estimates", 1): q(
        HEROIN_ESTIMATES + ["production-site/mexico-heroin-production"], "estimate"
    ),
    ("heroin-production", "estimated", 1): q(HEROIN_ESTIMATES, "estimate"),
    ("heroin-production", "estimates", 2): q(HEROIN_ESTIMATES, "imprecise"),
    ("heroin-production", "difficult to determine precisely", 1): q(HEROIN_ESTIMATES, "imprecise"),
    ("historical-heroin-sources", "until recently", 1): [
        ("value", flow, KG.period, ID + "period/until-recently")
        for flow in ("flow/colombia-us-heroin", "flow/guatemala-us-heroin")
    ],
    ("historical-heroin-sources", "much lesser extent", 1): q(
        "flow/guatemala-us-heroin", "much-lesser-extent"
    ),
    ("hsp-share", "now", 1): [
        ("value", "observation/us-hsp-heroin-weight-share-from-mexico", KG.refPeriod, ID + "period/now")
    ],
    ("hsp-share", "more than", 1): q("observation/us-hsp-heroin-weight-share-from-mexico", "more-than"),
    ("introduction", "about", 1): [
        ("not a hedge", "'questions ... about how to address': a topic, not a quantity")
    ],
    ("introduction", "manufacture or diversion", 1): q(
        [fact for fact in CHINA_FLOWS + CHINA_SOURCES if "precursors-and-analogues" in fact],
        "manufacture-or-diversion",
    ),
    ("kingpin-priorities", "generally", 1): q("finding/mexican-forces-seize-little", "generally"),
    ("merida-funding", "nearly", 1): q("observation/merida-initiative-funding-fy2008-fy2018", "nearly"),
    ("mexico-majority-since-2013", "since", 1): [
        (
            "value",
            "observation/us-seized-heroin-share-from-mexico-since-2013",
            KG.refPeriod,
            ID + "period/since-2013",
        )
    ],
    ("mexico-majority-since-2013", "majority", 1): q(
        "observation/us-seized-heroin-share-from-mexico-since-2013", "majority"
    ),
    ("mexico-share-global", "less than", 1): q(
        "observation/mx-share-of-global-poppy-cultivation", "less-than"
    ),
    ("multiple-harvests", "may", 1): q("finding/multiple-harvests", "possible"),
    ("possible-issues", "possible", 1): q(QUESTIONS, "possible"),
    ("possible-issues", "may", 1): q(QUESTIONS, "possible"),
    ("precursors-from-us", "suspects", 1): q(
        ["flow/us-mexico-fentanyl-precursors", "production-site/mexico-fentanyl-labs"], "suspected"
    ),
    ("precursors-from-us", "may", 1): q(
        ["flow/us-mexico-fentanyl-precursors", "production-site/mexico-fentanyl-labs"], "possible"
    ),
    ("question-fentanyl-effect", "may", 1): q("question/fentanyl-effect-on-poppy-and-markets", "possible"),
    ("question-lopez-obrador", "may", 1): q("question/lopez-obrador-policies", "possible"),
    ("small-packages", "can", 1): [
        ("not a hedge", "'they can be shipped in small packages': what their potency allows, not a doubt")
    ],
    ("swb-seizures-doubled", "more than", 1): q("change/swb-heroin-seizures-2010-2015", "more-than"),
    ("swb-seizures-fy2018", "exceeded", 1): q("observation/swb-heroin-seizures-fy2018-to-july", "more-than"),
    ("violence-sinaloa-guerrero", "some", 1): q("situation/sinaloa-guerrero-violence", "some"),
}

# A qualifier that weakens a fact is only there when an excerpt of the fact uses its words.
QUALIFIER_WORDS: dict[str, str] = {
    "possible": r"\bmay\b|\bcan\b|\bpossible\b",
    "likely": r"\blikely\b",
    "some": r"\bsome\b",
    "many": r"\bmany\b",
    "most": r"\bmost\b",
    "generally": r"\bgenerally\b",
    "suspected": r"\bsuspect",
    "occasional": r"\bcan be found\b",
    "main": r"\bmain\b",
    "primarily": r"\bprimarily\b|\blargely\b",
    "manufacture-or-diversion": r"manufacture or diversion",
    "estimate": r"\bestimat",
    "imprecise": r"difficult to determine precisely",
    "approximate": r"\babout\b",
    "nearly": r"\bnearly\b",
    "more-than": r"more\s+than|\bexceeded\b",
    "less-than": r"less than",
    "majority": r"\bmajority\b",
    "much-lesser-extent": r"much lesser extent",
    "partial-period": r"months left",
}


@pytest.fixture(scope="module")
def data(dataset: Dataset) -> Dataset:
    return dataset


@pytest.fixture(scope="module")
def excerpts(data: Dataset) -> dict[str, str]:
    """Every excerpt's slug and its verbatim text, with typographic apostrophes made plain."""
    texts = {}
    for excerpt in data.subjects(RDF.type, KG.Excerpt):
        exact = next(str(v) for s in data.objects(excerpt, OA.hasSelector) for v in data.objects(s, OA.exact))
        texts[str(excerpt).removeprefix(ID + "excerpt/")] = exact.replace("’", "'")
    return texts


def cited(data: Dataset, fact: URIRef) -> set[str]:
    """The excerpts a fact quotes and those it cites as context, by slug."""
    return {
        str(e).removeprefix(ID + "excerpt/")
        for prop in (PROV_DERIVED, KG.contextExcerpt)
        for e in data.objects(fact, prop)
    }


def citing(data: Dataset, slug: str) -> set[URIRef]:
    excerpt = URIRef(ID + "excerpt/" + slug)
    return {URIRef(f) for prop in (PROV_DERIVED, KG.contextExcerpt) for f in data.subjects(prop, excerpt)}


def names(data: Dataset, node: URIRef) -> list[str]:
    return [str(n).replace("’", "'") for p in (SKOS.prefLabel, SKOS.altLabel) for n in data.objects(node, p)]


def test_every_attribution_in_the_text_is_accounted_for(excerpts: dict[str, str]) -> None:
    found = {slug for slug, text in excerpts.items() if ATTRIBUTION.search(text)}
    assert found == set(NAMED_AGENTS), (
        f"attributing excerpts not in the table: {sorted(found - set(NAMED_AGENTS))}; "
        f"in the table but attributing nothing: {sorted(set(NAMED_AGENTS) - found)}"
    )


@pytest.mark.parametrize("slug", sorted(NAMED_AGENTS))
def test_the_agents_named_are_the_ones_the_sentence_names(
    data: Dataset, excerpts: dict[str, str], slug: str
) -> None:
    """Each agent is named in the sentence, by name or through a document of its that the sentence cites."""
    text = excerpts[slug].replace("*", "").lower()
    for agent in NAMED_AGENTS[slug]:
        node = URIRef(ID + "organization/" + agent)
        documents = [
            str(title)
            for document in data.subjects(DCTERMS.publisher, node)
            for title in data.objects(document, DCTERMS.title)
        ]
        assert any(name.lower() in text for name in names(data, node) + documents), (
            f"{slug}: names neither {agent} nor a document it published"
        )


@pytest.mark.parametrize("slug", sorted(NAMED_AGENTS))
def test_facts_quoting_an_attribution_are_attributed_to_whom_it_names(data: Dataset, slug: str) -> None:
    agents = {URIRef(ID + "organization/" + agent) for agent in NAMED_AGENTS[slug]}
    for fact in citing(data, slug):
        attributed = set(data.objects(fact, PROV_ATTRIBUTED))
        assert not attributed or attributed <= agents, (
            f"{fact} quotes {slug}, which names {sorted(NAMED_AGENTS[slug])}, "
            f"but is attributed to {attributed}"
        )


def test_statements_quoting_one_sentence_are_attributed_to_one_agency(data: Dataset, store) -> None:
    """A reader asks whom to cite for a sentence: the heroin flow from Mexico quoted the Heroin
    Signature Program's sentence as the report's own word, where the share it states is DEA's, and
    an answer showed the one quote twice, credited to each. (A thing the sentence names, such as
    the programme, is no statement of it.)"""
    facts = {str(fact) for fact in data.subjects(PROV_DERIVED, None)}
    voices: dict[str, set[str]] = {}
    for items in evidence_for(store_select(store), facts).values():
        for item in items:
            if item.statement and not item.is_context and item.agency:
                voices.setdefault(item.excerpt, set()).add(item.agency)
    assert len(voices) > 40, "the report's statements quote their sentences"
    assert {excerpt: agencies for excerpt, agencies in voices.items() if len(agencies) > 1} == {}


def test_each_activity_of_a_programme_cites_a_sentence_naming_the_programme(data: Dataset, excerpts) -> None:
    """Five of the Mérida Initiative's activities gave as their context "Recent efforts aim to", the
    lead-in of the list they stand in, which names no programme: a reader saw nothing in the evidence
    that tied the activity to the Mérida Initiative."""
    activities = list(data.subject_objects(KG.hasActivity))
    assert activities
    for programme, activity in activities:
        said = [excerpts[slug].lower() for slug in cited(data, URIRef(activity))]
        named = [name.lower() for name in names(data, URIRef(programme))]
        assert any(name in text for name in named for text in said), (activity, named)


def test_a_finding_from_a_cited_document_is_linked_to_it(data: Dataset) -> None:
    """'according to the 2017 National Drug Threat Assessment': attributed to its publisher, and linked."""
    change = URIRef(ID + "change/us-fentanyl-availability")
    document = URIRef(ID + "document/dea-national-drug-threat-assessment-2017")
    assert set(data.objects(change, PROV_ATTRIBUTED)) == {URIRef(ID + "organization/dea")}
    assert (change, DCTERMS.source, document) in data
    assert (document, DCTERMS.publisher, URIRef(ID + "organization/dea")) in data


DEMONYMS = {"country/MX": ["mexican"], "country/CN": ["chinese"], "country/US": ["u.s.", "united states"]}


def test_every_fact_about_a_place_cites_a_sentence_that_names_it(
    data: Dataset, excerpts: dict[str, str]
) -> None:
    """A sentence that leaves its place to an earlier one ('Seizures declined') needs a context excerpt."""
    unnamed = []
    for prop in (KG.refArea, KG.area):
        for fact, place in data.subject_objects(prop):
            if not str(fact).startswith(ID) or (fact, RDF.type, KG.Figure) in data:
                continue
            words = [n.lower() for n in names(data, place)] + DEMONYMS.get(str(place).removeprefix(ID), [])
            texts = [excerpts[slug].lower() for slug in cited(data, fact)]
            if not any(word in text for word in words for text in texts):
                unnamed.append((str(fact).removeprefix(ID), str(place).removeprefix(ID)))
    assert not unnamed, f"facts whose excerpts do not name their place: {sorted(unnamed)}"


def test_an_area_a_place_includes_is_named_in_the_sentence_the_place_cites(
    data: Dataset, excerpts: dict[str, str]
) -> None:
    """'Latin America has featured as the main source' was the report's evidence for Latin America
    including Mexico, Colombia and Guatemala, which no sentence of the report says: a link of
    geography the report leaves unsaid belongs to the background, with its own source."""
    unnamed = []
    for place, member in data.graph(graph_iri("data")).subject_objects(KG.includesArea):
        words = [n.lower() for n in names(data, member)] + DEMONYMS.get(str(member).removeprefix(ID), [])
        texts = [excerpts[slug].lower() for slug in cited(data, place)]
        if not any(word in text for word in words for text in texts):
            unnamed.append((str(place).removeprefix(ID), str(member).removeprefix(ID)))
    assert not unnamed, f"areas no sentence the place cites names: {sorted(unnamed)}"


def test_every_hedge_in_the_text_is_accounted_for(excerpts: dict[str, str]) -> None:
    found = set()
    for slug, text in excerpts.items():
        seen: dict[str, int] = {}
        for match in HEDGE.finditer(text):
            word = re.sub(r"\s+", " ", match.group().lower())
            seen[word] = seen.get(word, 0) + 1
            found.add((slug, word, seen[word]))
    assert found == set(HEDGES), (
        f"hedges not in the table: {sorted(found - set(HEDGES))}; "
        f"in the table but not in the text: {sorted(set(HEDGES) - found)}"
    )


@pytest.mark.parametrize("occurrence", sorted(HEDGES), ids=lambda o: f"{o[0]}:{o[1]}#{o[2]}")
def test_each_hedge_is_kept_by_the_facts_that_quote_it(
    data: Dataset, occurrence: tuple[str, str, int]
) -> None:
    slug = occurrence[0]
    for requirement in HEDGES[occurrence]:
        kind, *rest = requirement
        if kind == "not a hedge":
            continue
        fact = URIRef(ID + rest[0])
        assert slug in cited(data, fact), f"{rest[0]} does not cite {slug}"
        if kind == "qualifier":
            qualifier = URIRef(ID + "qualifier/" + rest[1])
            assert any((fact, p, qualifier) in data for p in QUALIFIER_PROPERTIES), (
                f"{rest[0]} lacks qualifier {rest[1]} for {occurrence[1]!r} in {slug}"
            )
        elif kind == "value":
            assert (fact, rest[1], URIRef(rest[2])) in data, f"{rest[0]} lacks {rest[1]} {rest[2]}"
        else:
            assert any(rest[2] in str(v) for v in data.objects(fact, rest[1])), f"{rest[0]} lost {rest[2]!r}"


def test_no_fact_carries_a_qualifier_its_excerpts_do_not_word(
    data: Dataset, excerpts: dict[str, str]
) -> None:
    """'may be cultivating' is possible, not likely: a qualifier needs its words in a cited excerpt."""
    stronger = []
    for prop in QUALIFIER_PROPERTIES:
        for fact, qualifier in data.subject_objects(prop):
            name = str(qualifier).removeprefix(ID + "qualifier/")
            texts = [excerpts[slug] for slug in cited(data, fact)]
            if not any(re.search(QUALIFIER_WORDS[name], text, re.IGNORECASE) for text in texts):
                stronger.append((str(fact).removeprefix(ID), name))
    assert not stronger, f"qualifiers whose words no cited excerpt uses: {sorted(stronger)}"


# Qualifiers that say a fact may not be so, and the words a label keeps them in.
DOUBTS = {"possible", "suspected", "likely"}
DOUBT_WORDS = re.compile(r"\b(may|might|can|could|suspect\w*|likely|possibl\w*)\b", re.IGNORECASE)


def test_a_label_keeps_the_doubt_of_its_fact(data: Dataset) -> None:
    """'can present challenges for manual eradication' was labelled 'hampering manual eradication', and
    DEA's suspicion that labs in Mexico may use precursors smuggled from the United States 'precursor
    chemicals smuggled over the border from the United States to labs in Mexico': the label, which
    every answer and page shows as the fact's name, said as done what the report says may be. A
    fact without a label is named by its IRI ('us officials oppose decriminalization', of U.S.
    officials who 'likely would oppose'), so such a fact needs one. (A question to Congress asks;
    its label states nothing.)"""
    sure = set()
    for prop in (KG.qualifier, KG.effectQualifier):
        for fact, qualifier in data.subject_objects(prop):
            if str(qualifier).removeprefix(ID + "qualifier/") not in DOUBTS:
                continue
            if (fact, RDF.type, KG.PolicyQuestion) in data:
                continue
            for label in list(data.objects(fact, RDFS.label)) or [str(fact).rsplit("/", 1)[-1]]:
                if not DOUBT_WORDS.search(str(label).replace("-", " ")):
                    sure.add((str(fact).removeprefix(ID), str(label)))
    assert not sure, f"labels that drop their fact's doubt: {sorted(sure)}"


# ---------------------------------------------------------------------------------------------
# Words: what a fact says in words of its own is said by the excerpts it cites.
# ---------------------------------------------------------------------------------------------

# Names only name: a label may paraphrase, except a finding's, which is the report's assessment.
NAMES = {RDFS.label, SKOS.prefLabel, SKOS.altLabel, FOAF.name}
# Notes of the curators that keep a distinction of the model (see docs/model.md), not a claim of the
# report's: (thing, property) -> why the words are not the report's.
CURATORS_NOTES: dict[tuple[str, URIRef], str] = {
    ("substance/analogues", SKOS.definition): "says what the report leaves unsaid",
    ("substance/chemical-precursors", SKOS.definition): "keeps precursors in general apart",
    ("substance/drugs", SKOS.definition): "keeps 'drugs (such as fentanyl)' apart from fentanyl",
    ("substance/illicit-fentanyl", SKOS.definition): "keeps the trafficked drug apart from the medicine",
    ("substance/illicit-opioids", SKOS.definition): "keeps illicit opioids apart from opioids",
}


# Words that carry no claim of their own.
FUNCTION_WORDS = {"which", "that", "this", "these", "those", "with", "from", "into", "their", "they", "them"}


def unsaid_words(text: str, excerpts: list[str]) -> list[str]:
    """The words of four letters or more in `text` that no excerpt begins a word with (their first
    five letters, so that 'seized' and 'seizures', 'decriminalizing' and 'decriminalization' agree)."""
    said = " ".join(excerpts).lower().replace("’", "'")
    words = re.findall(r"[a-z][a-z'-]{3,}", text.lower().replace("’", "'"))
    return [
        w for w in words if w not in FUNCTION_WORDS and not re.search(r"(?<![a-z])" + re.escape(w[:5]), said)
    ]


def test_what_a_fact_says_in_words_its_excerpts_say(data: Dataset, excerpts: dict[str, str]) -> None:
    """The Heroin Signature Program was 'analyzed for its origin', fentanyl 'linked to the ongoing
    opioid overdose epidemic' and DOD's support given through 'defense appropriations', in words
    that none of the excerpts each cites says: a reader shown the evidence found nothing there
    that said so. Facts from outside the report (the background graph) carry their own source."""
    unsaid = []
    for fact, prop, value in data.graph(graph_iri("data")):
        if not isinstance(value, Literal) or value.datatype is not None or not isinstance(fact, URIRef):
            continue
        if prop in NAMES and (fact, RDF.type, KG.Finding) not in data:
            continue
        slug = str(fact).removeprefix(ID)
        if (slug, prop) in CURATORS_NOTES:
            continue
        texts = [excerpts[e] for e in cited(data, fact)]
        if texts and (words := unsaid_words(str(value), texts)):
            unsaid.append((slug, str(prop).rsplit("#", 1)[-1].rsplit("/", 1)[-1], words))
    assert not unsaid, f"words of facts that no excerpt they cite says: {sorted(unsaid)}"


def test_the_curators_notes_are_of_things_the_graph_describes(data: Dataset) -> None:
    for slug, prop in CURATORS_NOTES:
        assert list(data.objects(iri(slug), prop)), (slug, prop)


# ---------------------------------------------------------------------------------------------
# Distinctions the report makes, kept apart in the data.
# ---------------------------------------------------------------------------------------------


def iri(path: str) -> URIRef:
    return URIRef(ID + path)


def test_trafficked_fentanyl_is_illicit_fentanyl_not_the_medicine(data: Dataset) -> None:
    """'Clandestine-produced' and 'illicit' fentanyl are a kind of fentanyl, apart from the medicine."""
    assert (iri("substance/illicit-fentanyl"), SKOS.broader, iri("substance/fentanyl")) in data
    carriers = [KG.TraffickingFlow, KG.ProductionSite]
    for cls in carriers:
        for fact in data.subjects(RDF.type, cls):
            assert (fact, KG.substance, iri("substance/fentanyl")) not in data, fact
    resolutions = iri("legislative-action/resolutions-on-fentanyl-trafficking")
    assert set(data.objects(resolutions, KG.targetsSubstance)) == {iri("substance/illicit-fentanyl")}
    # "illicit opioids and analogues" are illicit opioids and analogues of no stated substance.
    bills = iri("legislative-action/bills-on-opioid-imports")
    assert set(data.objects(bills, KG.targetsSubstance)) == {
        iri("substance/illicit-opioids"),
        iri("substance/analogues"),
    }


def test_most_precursors_and_analogues_not_all(data: Dataset) -> None:
    for fact in data.subjects(KG.origin, iri("country/CN")):
        if (fact, KG.substance, iri("substance/fentanyl-precursors")) in data:
            assert (fact, KG.substanceQualifier, iri("qualifier/most")) in data, fact


def test_chemical_precursors_in_general_are_not_fentanyl_precursors(data: Dataset) -> None:
    system = iri("activity/merida-drug-control-system")
    assert set(data.objects(system, KG.targetsSubstance)) == {iri("substance/chemical-precursors")}
    assert (iri("substance/fentanyl-precursors"), SKOS.broader, iri("substance/chemical-precursors")) in data


def test_now_and_since_2013_are_two_periods(data: Dataset) -> None:
    share = iri("observation/us-hsp-heroin-weight-share-from-mexico")
    majority = iri("observation/us-seized-heroin-share-from-mexico-since-2013")
    assert set(data.objects(share, KG.refPeriod)) == {iri("period/now")}
    assert set(data.objects(majority, KG.refPeriod)) == {iri("period/since-2013")}


def test_meridas_funding_period_is_not_its_lifetime(data: Dataset) -> None:
    """'provided nearly $2.9 billion from FY2008 to FY2018' dates the funding, not the programme."""
    merida = iri("program/merida-initiative")
    assert not set(data.objects(merida, KG.period))
    funding = iri("observation/merida-initiative-funding-fy2008-fy2018")
    assert set(data.objects(funding, KG.refPeriod)) == {iri("period/fy2008-fy2018")}


def test_primarily_qualifies_china_as_the_source_not_each_route(data: Dataset) -> None:
    primarily = iri("qualifier/primarily")
    for flow in data.subjects(RDF.type, KG.TraffickingFlow):
        assert (flow, KG.qualifier, primarily) not in data, flow
    for flow in CHINA_FLOWS:
        assert (iri(flow), KG.originQualifier, primarily) in data, flow


def test_mexican_customs_is_not_a_target_of_the_kingpin_strategy(data: Dataset) -> None:
    kingpins = iri("policy/kingpin-strategy")
    assert iri("organization/mx-customs") not in set(data.objects(kingpins, KG.concernsActor))
    seized_little = iri("finding/mexican-forces-seize-little")
    assert iri("organization/mx-customs") in set(data.objects(seized_little, KG.about))


def test_drugs_such_as_fentanyl_are_not_fentanyl(data: Dataset) -> None:
    training = iri("activity/merida-training-and-equipment")
    assert set(data.objects(training, KG.targetsSubstance)) == {iri("substance/drugs")}
    assert set(data.objects(training, KG.exampleSubstance)) == {iri("substance/fentanyl")}


def test_the_precursor_flow_feeds_the_mexican_labs(data: Dataset) -> None:
    flow, labs = iri("flow/us-mexico-fentanyl-precursors"), iri("production-site/mexico-fentanyl-labs")
    assert (flow, KG.feeds, labs) in data
    assert all((node, KG.qualifier, iri("qualifier/suspected")) in data for node in (flow, labs))
