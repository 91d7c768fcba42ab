"""Content negotiation and the one shape every error has."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import Response, g, jsonify, render_template, request
from werkzeug.http import parse_range_header

from kg.errors import KgError

from .messages import Answer
from .workers import ServiceError

SELECT_MEDIA = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
# The SPARQL 1.1 CSV and TSV result formats are defined for SELECT answers only.
ASK_MEDIA = {media: name for media, name in SELECT_MEDIA.items() if name not in ("csv", "tsv")}
GRAPH_MEDIA = {
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/n-quads": "nquads",
    "application/x-turtle": "turtle",
    "text/plain": "ntriples",
    "application/json": "jsonld",
    "application/xml": "rdfxml",
}
FORMAT_MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "nquads": "application/n-quads",
    "trig": "application/trig",
}
ALIASES = {
    "xml": "rdfxml",
    "rdf+xml": "rdfxml",
    "rdf": "rdfxml",
    "json": "jsonld",
    "json-ld": "jsonld",
    "n3": "turtle",
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "nq": "nquads",
}
# Characters of a header the server parses: content negotiation parses Accept up to three times a
# request, and 224 KB of media ranges cost the web process 0.7 to 1.3 s, uncharged; /sparql parses
# Content-Type for its kind of body, and 190 KB of parameters there cost 0.1 s; a static file or the
# dataset's file, answered conditionally, parses the range and the validators it is asked with (200 KB
# of ranges, 0.03 s). Browsers send 100-300.
MAX_PARSED_HEADER = 4_096
PARSED_HEADERS = (
    "Accept",
    "Content-Type",
    "Range",
    "If-Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
)
EXTENSIONS = {"ttl": "turtle", "nt": "ntriples", "jsonld": "jsonld", "rdf": "rdfxml", "nq": "nquads"}


# Parameters that take several values: the protocol's graphs of the dataset, each named once, and the
# kinds a search keeps to (`kind=place&kind=agency`).
REPEATABLE = frozenset({"default-graph-uri", "named-graph-uri", "kind"})


MAX_PARAMETERS = 1000  # of a request's URL or form, as werkzeug caps a form's parts
_PART = re.compile(rb"[^&]+")  # one name=value pair of a URL query or a form


def parameter_parts(encoded: bytes, where: str) -> list[bytes]:
    """The name=value parts of a URL query or form body, undecoded; more than MAX_PARAMETERS of them
    are refused (400) before any is read (a query, its format and its graphs are a handful: 110,000
    pairs were read only to refuse a request's `update`). An empty part (a trailing `&`) is none."""
    parts: list[bytes] = []
    for found in _PART.finditer(encoded):
        if len(parts) == MAX_PARAMETERS:
            raise ServiceError(400, f"{where} has more than {MAX_PARAMETERS} parameters")
        parts.append(found.group())
    return parts


def utf8_pairs(encoded: bytes, where: str) -> list[tuple[str, str]]:
    """The name=value pairs of a URL query or form body, each percent-decoded and read strictly as UTF-8,
    at most `MAX_PARAMETERS` of them (`parameter_parts`)."""
    pairs = []
    for part in parameter_parts(encoded, where):
        name, _, value = part.replace(b"+", b" ").partition(b"=")
        pairs.append((utf8(unquote_to_bytes(name), where), utf8(unquote_to_bytes(value), where)))
    return pairs


def utf8(data: bytes, where: str) -> str:
    """`data` read as UTF-8, or a 400 naming `where` and the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ServiceError(400, f"{where} is not UTF-8 (byte {error.start})") from None


def refuse_unreadable_urls() -> None:
    """Before any request, and before the URL's parameters are read: at most MAX_PARAMETERS of them (a
    page or a static file took 20,000 parameters named apart, each read: 0.09 s of this process's CPU a
    request, uncharged), and the path and every parameter UTF-8 once percent-decoded. A byte that is
    not had been read as the text `%FF` (an overlong `%C0%AF` searched as the words "C0 AF", answered
    with Afghanistan), where /sparql refused it."""
    path = request.environ.get("PATH_INFO", "")
    if all(ord(character) < 256 for character in path):  # as WSGI gives it: its bytes, one a character
        utf8(path.encode("latin-1"), "the URL's path")
    utf8_pairs(request.query_string, "the URL")


def read_one_range_only() -> None:
    """Before any request: a Range of several parts, of a unit other than bytes (which §14.2 says to
    ignore), or one werkzeug cannot read (`bytes=0-9, 20-29`, with the space the grammar allows), is
    ignored and the whole answered (200), as RFC 9110 §14.2 lets a server do. Werkzeug answers one part
    and sends no multipart/byteranges; a request for two parts of a file, both inside it, had been
    answered 416, "none can be satisfied"."""
    given = request.environ.get("HTTP_RANGE")
    asked = parse_range_header(given)
    if given is not None and (asked is None or asked.units != "bytes" or len(asked.ranges) > 1):
        del request.environ["HTTP_RANGE"]


def refuse_repeated_parameters() -> None:
    """Before any request: a parameter of the URL given twice is refused (400), as a second `query` is
    by /sparql (which reads its own, with its form and body): reading the first value alone would
    answer another question than the one asked, the rest dropped unsaid."""
    if request.path == "/sparql":
        return
    for name in request.args:
        given = len(request.args.getlist(name))
        if given > 1 and name not in REPEATABLE:
            raise ServiceError(400, f"parameter {name} is given {given} times; it takes one value")


UTF8 = "charset=utf-8"


def negotiate(media: dict[str, str], override: str | None = None, html: bool = False) -> str | None:
    """The format to answer in: `?format=` (a format's name or media type) first, then Accept; None when
    nothing offered fits (406).

    The first entry of `media` is the default for a missing Accept or `*/*`;
    with `html`, "html" is offered too and wins for browsers.
    """
    if override:
        # a name (`csv`), an alias of one (`ttl`), or a media type the refusal below offers (`text/csv`),
        # in any case, a type with `charset=utf-8` as the type (every answer is UTF-8), as Accept reads it
        named, _, parameters = override.partition(";")
        wanted = named.strip().lower()
        wanted = "html" if html and wanted == "text/html" else media.get(wanted, wanted)
        if wanted not in media.values() and ALIASES.get(wanted) in media.values():
            wanted = ALIASES[wanted]
        if _as_sent(wanted, parameters) and (wanted in media.values() or (html and wanted == "html")):
            return wanted
        raise ServiceError(406, f"format {override!r} is not offered here; offered: {offered(media, html)}")
    g.negotiated = True  # the answer depends on Accept: vary_by_accept says so to caches
    accept = request.accept_mimetypes
    if not accept:
        return next(iter(media.values()))
    best = best_type(list(media) + (["text/html"] if html else []))
    if best is None:
        return None
    return "html" if best == "text/html" else media[best]


JSON_LD = "application/ld+json"
# JSON-LD 1.1 Appendix C: the form a client may ask for by profile; every JSON-LD written here is expanded
EXPANDED_FORM = "http://www.w3.org/ns/json-ld#expanded"
EXPANDED = f'profile="{EXPANDED_FORM}"'


def best_type(types: list[str]) -> str | None:
    """The one of `types` the request's Accept prefers, None when it accepts none. Every answer is
    UTF-8: a client asking for that charset asks for what is sent, and JSON-LD is in expanded form: a
    client asking for that profile asks for what is sent, with the charset or without (the Accept reader
    matches parameters only where the type offered has the same, in any order, so each is offered)."""
    offered = [*types, *(f"{media_type}; {UTF8}" for media_type in types)]
    if JSON_LD in types:
        offered += [f"{JSON_LD}; {EXPANDED}", f"{JSON_LD}; {EXPANDED}; {UTF8}"]
    best = request.accept_mimetypes.best_match(offered)
    return None if best is None else best.split(";")[0]


def _as_sent(wanted: str, parameters: str) -> bool:
    """Whether a `format=` type's parameters ask for what is sent, as `best_type` reads Accept's:
    `charset=utf-8`, and for JSON-LD the expanded profile, each in any case but the profile's IRI."""
    for parameter in filter(None, (part.strip() for part in parameters.split(";"))):
        name, _, value = parameter.partition("=")
        name, value = name.strip().lower(), value.strip()
        if name == "charset" and value.strip('"').lower() == "utf-8":
            continue
        if name == "profile" and wanted == "jsonld" and value.strip('"') == EXPANDED_FORM:
            continue
        return False
    return True


def too_long(header: str) -> bool:
    return len(request.headers.get(header, "")) > MAX_PARSED_HEADER


def refuse_long_headers() -> None:
    """Before any request is answered: a header the server parses, past MAX_PARSED_HEADER, is refused
    (431) unread."""
    for header in PARSED_HEADERS:
        if too_long(header):
            raise ServiceError(431, f"the {header} header is longer than {MAX_PARSED_HEADER} characters")


def refuse_content_codings() -> Response | None:
    """Before any request is read: a body in a content coding (`Content-Encoding: gzip` …) is refused
    (415) unread, naming the one coding taken (RFC 9110, 15.5.16): the server decodes none, and read as
    it came, a compressed body had been taken for the query or the form."""
    coding = request.headers.get("Content-Encoding", "").strip()
    if not coding or coding.lower() == "identity":
        return None
    said = f"the request body is sent in the content coding {coding[:100]!r}; send it as it is (identity)"
    response = error_response(415, said)
    response.headers["Accept-Encoding"] = "identity"
    return response


def vary_by_accept(response: Response) -> Response:
    """Every answer whose form was chosen by Accept (a page, a redirect, RDF) carries Vary: Accept."""
    if g.get("negotiated"):
        response.vary.add("Accept")
    return response


def offered(media: dict[str, str], html: bool = False) -> str:
    return ", ".join((["text/html"] if html else []) + sorted(set(media) - {"text/plain"}))


def answer_response(answer: Answer) -> Response:
    """A query's answer with its media type and the truncation flag the row cap may have set."""
    response = Response(answer.body, content_type=FORMAT_MEDIA[answer.output_format])
    response.headers["KG-Result-Count"] = str(answer.count)
    response.headers["KG-Truncated"] = "true" if answer.truncated else "false"
    response.vary.add("Accept")
    return response


MESSAGE_CHARACTERS = 2_000  # of a refusal's message as a client is told it


def told(message: str) -> str:
    """A refusal's message at most about MESSAGE_CHARACTERS long, its middle left out where longer: a
    message names the value it refuses, and named a substance of 25,000 characters whole (150 KB);
    its end, the values that would do, stays."""
    if len(message) <= MESSAGE_CHARACTERS:
        return message
    half = MESSAGE_CHARACTERS // 2
    return f"{message[:half]} … ({len(message) - 2 * half:,} characters left out) … {message[-half:]}"


def error_response(
    status: int,
    message: str,
    line: int | None = None,
    column: int | None = None,
    retry_after: int | None = None,
) -> Response:
    """The error shape of every endpoint: JSON for clients, the same fields on a page for browsers."""
    body: dict[str, object] = {"status": status, "message": told(message)}
    if line is not None:
        body.update(line=line, column=column)
    chosen_by_accept = not request.path.startswith(("/api/", "/sparql"))  # those answer JSON alone
    wants_html = not too_long("Accept") and best_type(["application/json", "text/html"]) == "text/html"
    if wants_html and chosen_by_accept:
        response = Response(
            render_template("error.html", error=body), content_type="text/html; charset=utf-8"
        )
    else:
        response = jsonify(error=body)
    if chosen_by_accept:
        response.vary.add("Accept")  # a page for a browser, JSON for a client: a cache may keep either
    return refusal_status(response, status, retry_after)


def refusal_status(response: Response, status: int, retry_after: int | None = None) -> Response:
    """`response` with a refusal's status and, for a refusal that passes (the client's budget, a busy
    server), when to ask again; shared by the pages that show a refusal in place. A query sure to fail
    again (past a worker's memory) says nothing of asking again."""
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def from_exception(error: KgError) -> Response:
    return error_response(error.status, error.public, error.line, error.column, error.retry_after)
