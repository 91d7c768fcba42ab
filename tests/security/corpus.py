"""Generated spellings of queries that try to make the server open a connection to a URL.

Each spelling is a template with `{url}` (the target, ending in `/`) standing
for a listener's address. They mix the ways SPARQL text can hide a SERVICE
call, a LOAD or a FROM from a reader that does not parse SPARQL as the engine
does: comments ended by a carriage return, Unicode white space and its `\\u`
escapes, escapes in IRIs, strings and local names, tokens glued together,
prefixed names, relative IRIs against a BASE, and every place a group
pattern may stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pyoxigraph as ox


@dataclass(frozen=True)
class Spelling:
    """One attempt: its text template, whether it is an update, and a short name for reports."""

    name: str
    template: str
    update: bool = False
    harmless: bool = False  # read as SPARQL 1.1 reads it (escapes expanded first), it calls nothing

    def text(self, url: str) -> str:
        return self.template.replace("{url}", url)


# What stands between the SERVICE keyword and its endpoint.
SEPARATORS = {
    "space": " ",
    "tab": "\t",
    "newline": "\n",
    "cr": "\r",
    "crlf": "\r\n",
    "glued": "",
    "nbsp": "\u00a0",
    "ideographic-space": "\u3000",
    "line-separator": "\u2028",
    "escaped-nbsp": "\\u00A0",
    "escaped-space": "\\u0020",
    "comment-lf": " #c\n",
    "comment-cr": " #c\r",
    "comment-gt": " #>\n",
}
# How the endpoint is written; the listener's URL is {url}.
ENDPOINTS = {
    "iri": ("", "<{url}sparql>"),
    "pname": ("PREFIX e: <{url}>\n", "e:sparql"),
    "empty-prefix": ("PREFIX : <{url}>\n", ":sparql"),
    "escaped-local": ("PREFIX e: <{url}>\n", "e:a\\#"),
    "escaped-quote-local": ("PREFIX e: <{url}>\n", "e:a\\'"),
    "percent-local": ("PREFIX e: <{url}>\n", "e:%41"),
    "base-relative": ("BASE <{url}>\n", "<sparql>"),
    "base-empty": ("BASE <{url}>\n", "<>"),
    "escaped-iri": ("", "<{url}\\u0073parql>"),
}
KEYWORDS = {"upper": "SERVICE", "lower": "service", "mixed": "SeRvIcE", "silent": "SERVICE SILENT"}
# Where the SERVICE pattern stands in a query.
WRAPPERS = {
    "top": "SELECT * WHERE {{ {service} }}",
    "optional": "SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ {service} }} }}",
    "union": "SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ {service} }} }}",
    "minus": "SELECT * WHERE {{ ?a ?b ?c MINUS {{ {service} }} }}",
    "subselect": "SELECT * WHERE {{ {{ SELECT * WHERE {{ {service} }} }} }}",
    "exists": "SELECT * WHERE {{ BIND(1 AS ?x) FILTER EXISTS {{ {service} }} }}",
    "graph": "SELECT * WHERE {{ GRAPH ?g {{ {service} }} }}",
    "ask": "ASK {{ {service} }}",
    "construct": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {service} }}",
    "describe": "DESCRIBE ?s WHERE {{ {service} }}",
}
BODY = "{ ?s ?p ?o }"
# Hand-made spellings aimed at readers that tokenize instead of parsing.
TRICKS = {
    "filter-lt-glued": "PREFIX : <{url}>\nSELECT * WHERE { FILTER(1<2)SERVICE:sparql { ?s ?p ?o } #>\n}",
    "filter-lt-space": "PREFIX : <{url}>\nSELECT * WHERE { FILTER(1 < 2) SERVICE :sparql { ?s ?p ?o } #>\n}",
    "comment-cr-hides": "SELECT * WHERE { # look away\rSERVICE <{url}sparql> { ?s ?p ?o } }",
    "string-escaped-quote": 'SELECT * WHERE { BIND("\\u0022" AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }',
    "string-escaped-apos": "SELECT * WHERE { BIND('\\u0027' AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }",
    "string-escaped-quote-comment": (
        'SELECT * WHERE { BIND("\\u0022 # " AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }'
    ),
    "long-string-quote": 'SELECT * WHERE { BIND("""a"b""" AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }',
    "string-backslash": 'SELECT * WHERE { BIND("\\\\" AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }',
    "iri-with-nbsp-hash": "SELECT * WHERE { BIND(<urn:a\u00a0#> AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }",
    "iri-escaped-nbsp-hash": (
        "SELECT * WHERE { BIND(<urn:a\\u00A0#> AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }"
    ),
    "iri-ideographic-hash": (
        "SELECT * WHERE { BIND(<urn:a\u3000#> AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }"
    ),
    "iri-line-separator-hash": (
        "SELECT * WHERE { BIND(<urn:a\u2028#> AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }"
    ),
    "local-escape-hash": (
        "PREFIX e: <urn:e:>\nPREFIX x: <{url}>\nSELECT * WHERE { ?s e:a\\# ?o SERVICE x:sparql { ?s ?p ?o } }"
    ),
    "local-escape-apos": (
        "PREFIX e: <urn:e:>\nPREFIX x: <{url}>\nSELECT * WHERE { ?s e:a\\' ?o SERVICE x:sparql { ?s ?p ?o } }"
    ),
    "keyword-escaped": "SELECT * WHERE { \\u0053ERVICE <{url}sparql> { ?s ?p ?o } }",
    "keyword-long-escape": "SELECT * WHERE { \\U00000053ERVICE <{url}sparql> { ?s ?p ?o } }",
    "variable-bind": "SELECT * WHERE { BIND(<{url}sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    "variable-values": "SELECT * WHERE { VALUES ?e { <{url}sparql> } SERVICE ?e { ?s ?p ?o } }",
    "prefix-named-service": "PREFIX SERVICE: <{url}>\nSELECT * WHERE { SERVICE SERVICE:sparql { ?s ?p ?o } }",
    "prefix-glued-service": "PREFIX service: <{url}>\nSELECT * WHERE { SERVICE service:x { ?s ?p ?o } }",
    "nested-service": ("SELECT * WHERE { SERVICE <{url}a> { SERVICE <{url}b> { ?s ?p ?o } } }"),
    "values-after": "SELECT * WHERE { SERVICE <{url}sparql> { ?s ?p ?o } } VALUES ?s { <urn:x> }",
    "bom-start": "\ufeffSELECT * WHERE { SERVICE <{url}sparql> { ?s ?p ?o } }",
    "nul-in-comment": "SELECT * WHERE { #\x00\nSERVICE <{url}sparql> { ?s ?p ?o } }",
    # Each of these reads as a whole query both to a reader that ends comments at a line feed only, or
    # expands escapes over the whole text, and to the engine, which does neither: the first sees no
    # SERVICE, the engine runs one.
    "comment-cr-balanced": "SELECT * WHERE { # look away\rSERVICE <{url}sparql> { ?s ?p ?o }\n}",
    "comment-cr-balanced-silent": "SELECT * WHERE { #\r SERVICE SILENT <{url}sparql> { ?s ?p ?o } \n }",
    "string-escaped-quote-balanced": (
        'SELECT * WHERE { BIND("X\\u0022 AS ?y) BIND(1+" AS ?y) SERVICE <{url}sparql> { ?s ?p ?o } '
        'BIND(" AS ?w) BIND(\\u0022" AS ?z) }'
    ),
    "string-escaped-apos-balanced": (
        "SELECT * WHERE { BIND('X\\u0027 AS ?y) BIND(1+' AS ?y) SERVICE <{url}sparql> { ?s ?p ?o } "
        "BIND(' AS ?w) BIND(\\u0027' AS ?z) }"
    ),
    # A local name with dots in two places: rdflib reads one name, the engine ends it before the second
    # dot and reads SERVICE after it.
    "dotted-local-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b.SERVICE:x { } }"
    ),
    "dotted-local-escaped-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b\\.c.SERVICE:x { } }"
    ),
    "dotted-local-middle-dot-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a\u00b7.b.SERVICE:x { } }"
    ),
    "dotted-local-escaped-paren-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b\\(x.SERVICE:y { } }"
    ),
    "dotted-local-escaped-comma-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b\\,x.SERVICE:y { } }"
    ),
    "dotted-local-escaped-semicolon-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b\\;x.SERVICE:y { } }"
    ),
    # An escaped quote in a local name is no string: a reader that starts one there hides the rest
    # of the line, and with it a dotted name the engine cuts before SERVICE.
    "escaped-quote-local-dotted-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\n"
        "SELECT * WHERE { ?s ?p e:q\\'r . ?s ?p e:a.b.SERVICE:x { } } #'"
    ),
    # A Unicode space is a name character (U+1680) or an IRI character (U+00A0, U+3000) to both parsers;
    # read as white space, it cut the name in two, or ended the IRI before a quote or `#` that then
    # hid the rest of the line.
    "dotted-local-ogham-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b\u1680c.SERVICE:x { } }"
    ),
    "dotted-local-escaped-ogham": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a.b\\u1680c.SERVICE:x { } }"
    ),
    "iri-nbsp-quote-dotted-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\n"
        "SELECT * WHERE { ?s <urn:h\u00a0'> e:a.b.SERVICE:x { } . ?s ?p <urn:h\u00a0'> }"
    ),
    "iri-ideographic-hash-dotted-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s <urn:h\u3000#> e:a.b.SERVICE:x { } }"
    ),
    # A prefixed name whose IRI is no IRI (a port `SERVICE:y`): Oxigraph drops the name back to its
    # prefix alone and reads SERVICE after it, rdflib reads one name.
    "invalid-iri-name-balanced": (
        "PREFIX e: <http://h>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:SERVICE:y { } }"
    ),
    "invalid-iri-name-colon-balanced": (
        "PREFIX e: <http://h:>\nPREFIX : <{url}>\nSELECT * WHERE { OPTIONAL { ?s ?p e:service:y { } } }"
    ),
    "invalid-iri-name-base-balanced": (
        "BASE <http://h>\nPREFIX e: <>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:SERVICE:y { } }"
    ),
    # A blank node's label, a language tag or a number ends where a prefixed name glued to it begins:
    # read as one name, the prefixed name (here no IRI, so Oxigraph reads `:` then `1` then SERVICE)
    # went unchecked.
    "blank-label-glued-name-balanced": (
        "PREFIX : <http://h:>\nSELECT * WHERE { _:b:1SERVICE <{url}sparql> { } }"
    ),
    "blank-label-glued-true-balanced": (
        "PREFIX : <http://h:1>\nSELECT * WHERE { _:b:trueSERVICE <{url}sparql> { } }"
    ),
    "language-tag-glued-name": (
        'PREFIX en: <http://ok/>\nPREFIX : <http://h:>\nSELECT * WHERE { "x"@en:1SERVICE <{url}sparql> { } }'
    ),
    "double-glued-name": (
        "PREFIX e5: <http://ok/>\nPREFIX : <http://h:>\nSELECT * WHERE { 1e5:1SERVICE <{url}sparql> { } }"
    ),
    # A `<` the parsers read as less-than, which starts an IRI for a tokenizer: what follows it, to a
    # `#` (a comment to the parsers) or a quote (a string), was hidden from the guard's checks.
    "less-than-comment-balanced": (
        "PREFIX : <http://h:>\nSELECT * WHERE { FILTER(1<2)_:b:1SERVICE#>\n<{url}sparql> { } }"
    ),
    "less-than-variables-comment-balanced": (
        "PREFIX : <http://h:>\nSELECT * WHERE { FILTER(1<2)?s:1SERVICE#>\n<{url}sparql> { } }"
    ),
    "less-than-quote-balanced": (
        "PREFIX : <http://h:>\nSELECT * WHERE { FILTER(?a<'>') _:b :1SERVICE <{url}sparql> { } #'\n}"
    ),
    "less-than-quote-dotted-balanced": (
        "PREFIX e: <http://ok/>\nPREFIX : <{url}>\n"
        "SELECT * WHERE { FILTER(?a<'>') ?s ?p e:a.b.SERVICE:x { } #'\n}"
    ),
    # A text rdflib cannot read (SPARQL 1.2's VERSION) that Oxigraph runs: refused without ever being
    # handed to the engine, which reads a query only by running it.
    "version-prologue-balanced": 'VERSION "1.2"\nSELECT * WHERE { SERVICE <{url}sparql> { } }',
    "version-prologue-ask-balanced": "VERSION '1.2' ASK { SERVICE <{url}sparql> { } }",
    # The same after a name that FILTER is glued to: one name to the tokenizer, FILTER and a function's
    # name to both parsers.
    "less-than-glued-filter-comment-balanced": (
        "PREFIX FILTER\u00e9: <http://x/>\nPREFIX \u00e9: <http://www.w3.org/2001/XMLSchema#>\nPREFIX : <http://h:>\n"
        "SELECT * WHERE { FILTER\u00e9:boolean(1<2)_:b:1SERVICE#>\n<{url}sparql> { } }"
    ),
    "less-than-glued-filter-variables-balanced": (
        "PREFIX FILTER\u00e9: <http://x/>\nPREFIX \u00e9: <http://www.w3.org/2001/XMLSchema#>\nPREFIX : <http://h:>\n"
        "SELECT * WHERE { FILTER\u00e9:boolean(1<2)?s:1SERVICE#>\n<{url}sparql> { } }"
    ),
    "less-than-glued-filter-quote-balanced": (
        "PREFIX FILTER\u00e9: <http://x/>\nPREFIX \u00e9: <http://www.w3.org/2001/XMLSchema#>\n"
        "PREFIX e: <http://ok/>\nPREFIX : <{url}>\n"
        "SELECT * WHERE { FILTER\u00e9:boolean(?a<'>') ?s ?p e:a.b.SERVICE:x { } #'\n}"
    ),
    # A local part that starts with a dot: one name to the tokenizer, a name, a dot and new tokens to
    # both parsers, which hid a name from the check of names, or a FILTER from the check of less-than.
    "leading-dot-local-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <http://h:>\nSELECT * WHERE { ?s ?p e:._:b:1SERVICE <{url}sparql> { } }"
    ),
    "leading-dot-hides-filter-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <http://h:>\nSELECT * WHERE { ?s ?p e:.FILTER(1<2)_:b:1SERVICE#>\n"
        "<{url}sparql> { } }"
    ),
    "leading-dot-empty-prefix-hides-filter-balanced": (
        "PREFIX : <urn:e:>\nPREFIX h: <http://h:>\nSELECT * WHERE { ?s ?p :.FILTER(1<2)_:b h:1SERVICE#>\n"
        "<{url}sparql> { } }"
    ),
    # The same after the IRI of a function a FILTER calls.
    "less-than-called-function-comment-balanced": (
        "PREFIX : <http://h:>\nSELECT * WHERE { FILTER <http://www.w3.org/2001/XMLSchema#boolean>(1<2)"
        "_:b:1SERVICE#>\n<{url}sparql> { } }"
    ),
    # A first such IRI holding a bracket, which the guard's count of brackets then misses.
    "less-than-bracket-hides-depth-balanced": (
        "PREFIX : <http://h:>\nSELECT * WHERE { FILTER(1<2&&(1>0)&&1<2)_:b:1SERVICE#>\n<{url}sparql> { } }"
    ),
    "less-than-variables-bracket-hides-depth-balanced": (
        "PREFIX : <http://h:>\n"
        "SELECT * WHERE { FILTER(?a<?b&&(?c>?d)&&1<2)_:b:1SERVICE#>\n<{url}sparql> { } }"
    ),
    "dotted-local-colon-balanced": (
        "PREFIX e: <urn:e:>\nPREFIX : <{url}>\nSELECT * WHERE { ?s ?p e:a:b.c.SERVICE:x { } }"
    ),
    "string-long-escape-balanced": (
        'SELECT * WHERE { BIND("X\\U00000022 AS ?y) BIND(1+" AS ?y) SERVICE <{url}sparql> { ?s ?p ?o } '
        'BIND(" AS ?w) BIND(\\U00000022" AS ?z) }'
    ),
    # A string that escapes the other quote (which the guard writes as the quote itself, since rdflib
    # cannot read the escape): the SERVICE after it is a call, the one inside it is not.
    "string-other-quote-apos": "SELECT * WHERE { BIND('a\\\"' AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }",
    "string-other-quote-double": 'SELECT * WHERE { BIND("a\\\'" AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }',
    "long-string-other-quote": (
        "SELECT * WHERE { BIND('''a\\\"''' AS ?x) SERVICE <{url}sparql> { ?s ?p ?o } }"
    ),
    "string-other-quote-hides": (
        "SELECT * WHERE { BIND(\"a\\' AS ?y) SERVICE <{url}sparql> { ?s ?p ?o } BIND(\\'\" AS ?x) }"
    ),
    "string-other-quote-hides-apos": (
        "SELECT * WHERE { BIND('a\\\" AS ?y) SERVICE <{url}sparql> { ?s ?p ?o } BIND(\\\"' AS ?x) }"
    ),
}
# Those whose SERVICE lies in a string as SPARQL 1.1 reads them (escapes expanded first, either quote
# escaped in any string): the server runs them so, and they answer.
HARMLESS_EXPANDED = {
    "string-escaped-quote-balanced",
    "string-escaped-apos-balanced",
    "string-long-escape-balanced",
    "string-other-quote-hides",
    "string-other-quote-hides-apos",
}
# Queries that try to read a dataset from outside: FROM with every spelling of an IRI.
DATASETS = {
    "from-iri": "SELECT * FROM <{url}data.ttl> WHERE { ?s ?p ?o }",
    "from-named-iri": "SELECT * FROM NAMED <{url}g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from-pname": "PREFIX e: <{url}>\nSELECT * FROM e:data WHERE { ?s ?p ?o }",
    "from-named-pname": "PREFIX e: <{url}>\nSELECT * FROM NAMED e:g WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from-space-in-iri": "SELECT * FROM <{url}data x> WHERE { ?s ?p ?o }",
    "from-escaped": "SELECT * FROM <{url}\\u0064ata> WHERE { ?s ?p ?o }",
    "from-base": "BASE <{url}>\nSELECT * FROM <data.ttl> WHERE { ?s ?p ?o }",
    "from-comment-cr": "SELECT * # x\rFROM <{url}data.ttl> WHERE { ?s ?p ?o }",
    "from-comment-cr-then-lf": "SELECT * # x\rFROM <{url}data.ttl>\nWHERE { ?s ?p ?o }",
}
# Updates that fetch: LOAD in its spellings.
LOADS = {
    "load": "LOAD <{url}data.ttl>",
    "load-silent": "LOAD SILENT <{url}data.ttl>",
    "load-into": "LOAD <{url}data.ttl> INTO GRAPH <urn:g>",
    "load-lower": "load <{url}data.ttl>",
    "load-pname": "PREFIX e: <{url}>\nLOAD e:data",
    "load-escaped": "\\u004cOAD <{url}data.ttl>",
    "load-comment-cr": "# x\rLOAD <{url}data.ttl>",
    "load-after-prologue": "BASE <{url}>\nLOAD <data.ttl>",
}


def spellings() -> list[Spelling]:
    """The whole corpus, in a stable order."""
    found: list[Spelling] = []
    for (sep_name, sep), (end_name, (prologue, endpoint)) in product(SEPARATORS.items(), ENDPOINTS.items()):
        service = f"SERVICE{sep}{endpoint} {BODY}"
        found.append(
            Spelling(f"sep:{sep_name}/end:{end_name}", prologue + WRAPPERS["top"].format(service=service))
        )
    for (kw_name, keyword), (wrap_name, wrapper) in product(KEYWORDS.items(), WRAPPERS.items()):
        service = f"{keyword} <{{url}}sparql> {BODY}"
        found.append(Spelling(f"kw:{kw_name}/in:{wrap_name}", wrapper.format(service=service)))
    for (end_name, (prologue, endpoint)), wrap_name in product(
        ENDPOINTS.items(), ("optional", "exists", "ask")
    ):
        service = f"SERVICE {endpoint} {BODY}"
        found.append(
            Spelling(f"end:{end_name}/in:{wrap_name}", prologue + WRAPPERS[wrap_name].format(service=service))
        )
    found += [
        Spelling(f"trick:{name}", text, harmless=name in HARMLESS_EXPANDED) for name, text in TRICKS.items()
    ]
    found += [Spelling(f"dataset:{name}", text) for name, text in DATASETS.items()]
    found += [Spelling(f"load:{name}", text, update=True) for name, text in LOADS.items()]
    return found


def run_on_plain_pyoxigraph(spelling: Spelling, text: str) -> None:
    """Run the text on an in-memory pyoxigraph store, as the engine would without the guard."""
    store = ox.Store()
    try:
        if spelling.update:
            store.update(text)
        else:
            answer = store.query(text)
            if not isinstance(answer, ox.QueryBoolean):
                list(answer)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        pass
