"""The SPARQL results formats (JSON, XML, CSV, TSV) written straight from Oxigraph terms.

Writing them here keeps blank nodes blank and costs one pass over the rows,
which matters on the endpoint's hot path; `kg query` and the server share them.
"""

from __future__ import annotations

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

Solution = dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _json_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    value = {"type": "literal", "value": term.value}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        value["datatype"] = term.datatype.value
    return value


def _xml_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _csv_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def _tsv_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    if term is None:
        return ""
    return str(term).replace("\t", "\\t")


def select(variables: list[str], rows: list[Solution], output_format: str) -> bytes:
    """Solutions in one of json, xml, csv, tsv."""
    if output_format == "json":
        bindings = [{name: _json_term(term) for name, term in row.items()} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}).encode()
    if output_format == "xml":
        head = "".join(f"<variable name={quoteattr(name)}/>" for name in variables)
        body = "".join(
            "<result>"
            + "".join(f"<binding name={quoteattr(n)}>{_xml_term(t)}</binding>" for n, t in row.items())
            + "</result>"
            for row in rows
        )
        return (
            '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head>{head}</head><results>{body}</results></sparql>"
        ).encode()
    if output_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_term(row.get(name)) for name in variables] for row in rows)
        return out.getvalue().encode()
    if output_format == "tsv":
        lines = ["\t".join(f"?{name}" for name in variables)]
        lines += ["\t".join(_tsv_term(row.get(name)) for name in variables) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"no results format {output_format!r}")


def boolean(value: bool, output_format: str) -> bytes:
    """An ASK answer in json or xml, the results formats that hold a boolean."""
    word = "true" if value else "false"
    if output_format == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if output_format == "xml":
        return (
            '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head></head><boolean>{word}</boolean></sparql>"
        ).encode()
    raise ValueError(f"no results format {output_format!r}")
