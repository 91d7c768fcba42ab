"""Small helpers for asking the store: plain-string rows, labels, short keys from IRIs."""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox

from kg.store.base import Store

PREFIXES = """\
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

KG = "https://w3id.org/opioid-kg/ontology#"


def rows(
    store: Store, query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None
) -> list[dict[str, str]]:
    """Answer a SELECT as dictionaries of strings, so callers never touch term objects."""
    answer = store.query(PREFIXES + query, bindings)
    if not isinstance(answer, ox.QuerySolutions):
        raise TypeError("expected a SELECT query")
    names = [variable.value for variable in answer.variables]
    return [
        {name: solution[name].value for name in names if solution[name] is not None} for solution in answer
    ]


def local_name(iri: str) -> str:
    """The last segment of an IRI: `…/id/country/MX` -> `MX`, `…#heroinSeizures` -> `heroinSeizures`."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def label_pattern(subject: str, target: str) -> str:
    """SPARQL that binds `target` to an English label of `subject`, preferring a short one."""
    return (
        f"OPTIONAL {{ {subject} skos:altLabel ?{target}Alt\n"
        f"           FILTER(LANGMATCHES(LANG(?{target}Alt), 'en')) }}\n"
        f"OPTIONAL {{ {subject} skos:prefLabel ?{target}Pref\n"
        f"           FILTER(LANGMATCHES(LANG(?{target}Pref), 'en')) }}\n"
        f"OPTIONAL {{ {subject} rdfs:label ?{target}Rdfs }}\n"
    )


def long_label(row: Mapping[str, str], target: str, fallback: str = "") -> str:
    """The preferred label bound by `label_pattern`, else rdfs:label, else `fallback`."""
    return row.get(f"{target}Pref") or row.get(f"{target}Rdfs") or fallback


def short_label(row: Mapping[str, str], target: str, fallback: str = "") -> str:
    """The shortest label bound by `label_pattern` (agencies read better as ONDCP than in full)."""
    found = [row[f"{target}{kind}"] for kind in ("Alt", "Pref", "Rdfs") if f"{target}{kind}" in row]
    return min(found, key=len) if found else fallback
