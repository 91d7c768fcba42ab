"""/ontology: documentation generated from the ontology graph by pyLODE, and its RDF by Accept.

The page is made from the store's ontology graph once, on first request, so it
always matches the data being served and is never written by hand. pyLODE's
body is shown inside the site's frame (header, menu, search) and styled by the
site's stylesheet, so the page needs no inline style or script.
"""

from __future__ import annotations

import html
import re
import warnings
from collections import defaultdict

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from kg.namespaces import ID, KG, PREFIXES, QUDT

from .resources import RESOURCE_MEDIA, graph_answer
from .responses import negotiate, offered
from .services import services
from .workers import ServiceError

blueprint = Blueprint("ontology", __name__)


def ontology_graph() -> Graph:
    """The ontology named graph, read from the store through the worker pool."""
    state = services()
    iri = state.canonical("graph/ontology")
    answer = state.graph(iri, "ntriples")
    return Graph().parse(data=answer.body.decode("utf-8"), format="nt")


def documentation(graph: Graph) -> str:
    """pyLODE's documentation of the ontology, as the contents of a page in the site's frame (pyLODE is
    imported here: only this page needs it)."""
    from pylode import OntPub

    # pyLODE takes each SKOS concept scheme for an ontology of its own; the page is about the OWL one.
    described = Graph()
    for prefix, namespace in PREFIXES.items():
        if not namespace.startswith(str(ID)):  # vocabularies only: the data's prefixes name no term here
            described.bind(prefix, namespace)
    described.bind("qudt", str(QUDT))
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    for triple in graph:
        if triple[0] not in schemes:
            described.add(triple)
    tell_apart(described)
    texts = as_tokens(described)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = str(OntPub(ontology=described).make_html())
    body = anchored(framed(page[page.index(">", page.index("<body")) + 1 : page.rindex("</body>")]))
    body = _TOKEN_NAMED.sub(lambda found: found[1] + html.escape(fragment_id(texts[int(found[2])])), body)
    return _TOKEN.sub(lambda found: html.escape(texts[int(found[1])]), body)


def fragment_id(label: str) -> str:
    """The id pyLODE makes of a label, as it would have made it of the literal rather than its token:
    without spaces, characters past ASCII or `&`."""
    return "".join(character for character in label if " " < character < "\x80" and character != "&")


# A literal's stand-in while pyLODE writes the page: letters and digits, which Markdown leaves as they are.
_TOKEN = re.compile(r"kgliteral(\d+)x")
_TOKEN_NAMED = re.compile(r'(\bid="|\bhref="#)kgliteral(\d+)x(?=")')  # an id pyLODE made of a literal
# Datatypes whose lexical forms (which the build checks) hold no markup: every other literal is text,
# whatever its datatype (`xsd:normalizedString`, `xsd:token` and a datatype of one's own came out live).
_NO_MARKUP = {
    XSD.integer, XSD.nonNegativeInteger, XSD.positiveInteger, XSD.decimal, XSD.double, XSD.float,
    XSD.boolean, XSD.date, XSD.dateTime, XSD.gYear, XSD.gYearMonth, XSD.duration,
}  # fmt: skip


def as_tokens(graph: Graph) -> list[str]:
    """Each text literal of `graph` (but one pyLODE links, starting with `http`) replaced by a token, in
    place; the texts, by token number. pyLODE writes a literal through Markdown, whose output keeps
    HTML: a definition holding `<a href="javascript:…">`, a Markdown link to `javascript:`, a form or
    an image with `onerror` came out live on the page. The texts are escaped where the tokens stand."""
    numbers: dict[str, int] = {}  # one token a text: pyLODE shows a text given twice once
    for s, p, o in list(graph):
        if isinstance(o, Literal) and o.datatype not in _NO_MARKUP and not str(o).startswith("http"):
            graph.remove((s, p, o))
            number = numbers.setdefault(str(o), len(numbers))
            graph.add((s, p, Literal(f"kgliteral{number}x", lang=o.language)))
    return list(numbers)


# A term's entry: pyLODE's division and id, then, first in its table, the term's IRI.
_ENTRY = re.compile(r'(<div class="[^"]*\bentity\b[^"]*" id=")([^"]+)(">.*?<code>)([^<]+)(</code>)', re.S)


def anchored(body: str) -> str:
    """The documentation with each of the ontology's terms at the anchor the pages link it by, its local
    name (`/ontology#FlowLeg`): pyLODE makes its ids of the labels (`flowleg`,
    `qualifier(kg:Qualifier)`), and the contents list links those. A term of another vocabulary the
    ontology names is anchored at its prefixed name (`qudt:Unit`), apart from the ontology's `unit`."""
    renamed: dict[str, str] = {}
    namespaces = {**{prefix: str(namespace) for prefix, namespace in PREFIXES.items()}, "qudt": str(QUDT)}

    def entry(found: re.Match[str]) -> str:
        opening, old, between, iri, closing = found.groups()
        if iri.startswith(str(KG)):
            renamed[old] = iri[len(str(KG)) :]
        else:
            known = [f"{prefix}:{iri[len(ns) :]}" for prefix, ns in namespaces.items() if iri.startswith(ns)]
            renamed[old] = min(known, key=len, default=old)
        return f"{opening}{renamed[old]}{between}{iri}{closing}"

    body = _ENTRY.sub(entry, body)
    # The namespaces listed, and their entries in the contents, apart from the terms (`unit` is both).
    body = re.sub(r'<dt id="([^"]+)">', r'<dt id="prefix-\1">', body)
    body = re.sub(
        r'(<a href="#namespaces">.*?<ul class="second">)(.*?)(</ul>)',
        lambda found: found[1] + re.sub(r'href="#([^"]+)"', r'href="#prefix-\1"', found[2]) + found[3],
        body,
        count=1,
        flags=re.S,
    )
    return re.sub(
        r'href="#(?!prefix-)([^"]+)"', lambda found: f'href="#{renamed.get(found[1], found[1])}"', body
    )


def framed(body: str) -> str:
    """pyLODE's body reordered for the site: the title, then the contents as a navigation list, then
    the documentation (pyLODE places the contents last and pins it beside the page with its own style)."""
    start = body.index('<div id="toc">')
    end = body.index("</div>", start) + len("</div>")
    contents = body[start + len('<div id="toc">') : end - len("</div>")]
    contents = contents.replace("<h3>Table of Contents</h3>", "<h2>Contents</h2>")
    contents = contents.replace("<h4>", '<span class="toc-part">').replace("</h4>", "</span>")
    rest = body[:start] + body[end:]
    title_start = rest.index("<h1>")
    title_end = rest.index("</h1>", title_start) + len("</h1>")
    title = rest[title_start:title_end]
    rest = rest[:title_start] + rest[title_end:]
    return f'{title}\n<nav id="toc" aria-label="Contents">{contents}</nav>\n{rest}'


def tell_apart(graph: Graph) -> None:
    """Terms that share a label (the ontology's person and the persons of PROV and FOAF it refines) get
    their prefixed name beside it, so no two entries of the contents read the same."""
    terms: dict[str, set[URIRef]] = defaultdict(set)
    for term, label in graph.subject_objects(RDFS.label):
        if isinstance(term, URIRef):
            terms[str(label)].add(term)
    for shared in (found for found in terms.values() if len(found) > 1):
        for term in shared:
            for label in list(graph.objects(term, RDFS.label)):
                graph.remove((term, RDFS.label, label))
                name = graph.namespace_manager.normalizeUri(term)
                language = label.language if isinstance(label, Literal) else None
                graph.add((term, RDFS.label, Literal(f"{label} ({name})", lang=language)))


@blueprint.get("/ontology")
def ontology() -> Response:
    """The ontology's documentation for browsers; Turtle, N-Triples, JSON-LD or RDF/XML for clients."""
    chosen = negotiate(RESOURCE_MEDIA, request.args.get("format"), html=True)
    if chosen is None:
        raise ServiceError(406, f"the ontology is offered as: {offered(RESOURCE_MEDIA, True)}")
    state = services()
    if chosen != "html":
        return graph_answer(state.canonical("graph/ontology"), chosen)
    # most of a second of this process: charged to the client it is made for, as a picture is
    contents = state.picture(("ontology page",), lambda: documentation(ontology_graph()).encode())
    return Response(
        render_template("ontology.html", contents=Markup(contents.decode("utf-8"))),
        content_type="text/html; charset=utf-8",
    )


@blueprint.get("/ontology.<extension>")
def ontology_file(extension: str) -> Response:
    from .responses import EXTENSIONS

    if extension not in EXTENSIONS or EXTENSIONS[extension] == "nquads":
        raise ServiceError(404, f"no /ontology.{extension}; try /ontology.ttl")
    return graph_answer(services().canonical("graph/ontology"), EXTENSIONS[extension])
