"""What `kg serve` tells a browser and a client that it need not: no Host reflected, no link to another
site made out of our own namespace, and the headers that keep pages from being framed, scripted or
leaking their URLs.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator

import pytest
from server_fixtures import RunningServer, free_port, start_server

PUBLIC = "https://kg.example.org/opioid/"
EVIL_HOST = "attacker.example"
POLICY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(built.store_path, tmp_path_factory.mktemp("serve"), "--workers", "1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def public(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        built.store_path, tmp_path_factory.mktemp("serve"), "--workers", "1", "--base-url", PUBLIC
    )
    yield running
    running.stop()


DESCRIPTIONS = (
    ("/.well-known/void", "text/turtle"),
    ("/sparql", "text/turtle"),
    ("/api/openapi.json", "application/json"),
    ("/api/queries", "application/json"),
)


@pytest.mark.parametrize(("path", "accept"), DESCRIPTIONS)
def test_the_host_a_request_names_is_not_written_into_descriptions(server, public, path, accept) -> None:
    for running, base in ((server, server.base + "/"), (public, PUBLIC)):
        reply = running.request(path, headers={"Host": EVIL_HOST, "Accept": accept})
        assert reply.status == 200, reply.text
        assert EVIL_HOST not in reply.text
        assert base.rstrip("/") in reply.text, f"{path} does not name {base}"


@pytest.mark.parametrize(
    "path", ["/id//substance/fentanyl", "/api//queries", "/queries//x", "//source", "/network//map.svg"]
)
def test_the_host_a_request_names_is_not_written_into_a_redirect(server, path) -> None:
    """Routing merged a path's double slashes with a 308 to an absolute URL on the request's Host, which
    a shared cache could keep for every client (werkzeug's redirect, not the project's)."""
    reply = server.request(path, headers={"Host": EVIL_HOST}, follow=False)
    assert EVIL_HOST not in reply.headers.get("location", ""), (path, reply.status, reply.headers)
    assert EVIL_HOST not in reply.text


def test_void_names_the_configured_endpoint(public) -> None:
    reply = public.request("/.well-known/void", headers={"Host": EVIL_HOST, "Accept": "text/turtle"})
    assert f"<{PUBLIC}sparql>" in reply.text and f"<{PUBLIC}data>" in reply.text


def test_a_base_url_that_is_not_http_is_refused(built, tmp_path) -> None:
    with pytest.raises(RuntimeError, match="--base-url"):
        start_server(built.store_path, tmp_path, "--base-url", "javascript:alert(1)")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "0"])
def test_a_server_on_every_address_needs_the_url_readers_reach_it_by(built, tmp_path, host: str) -> None:
    """Its citations, VoID and API named `http://0.0.0.0:PORT/`, which no reader can open."""
    with pytest.raises(
        RuntimeError, match=r"exited with 2:(?s:.*)--host \S+ listens on every address(?s:.*)give --base-url"
    ):
        start_server(built.store_path, tmp_path, "--host", host)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/query",
        "/queries",
        "/sparql?query=ASK%7B%7D",
        "/api/queries",
        "/no/such/page",
        "/id/substance/fentanyl",
        "/static/site.css",
        "/.well-known/void",
        "/network",
        "/charts",
    ],
)
def test_every_response_carries_the_security_headers(server, path) -> None:
    reply = server.request(path, headers={"Accept": "text/html"})
    for name, value in POLICY_HEADERS.items():
        assert value in reply.headers.get(name, ""), f"{path}: {name} is {reply.headers.get(name)!r}"
    assert "'unsafe-inline'" not in reply.headers["content-security-policy"]


def test_generated_pages_may_run_only_their_own_inline_scripts(server) -> None:
    picture = server.request("/network.html")
    policy = picture.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and picture.headers["x-frame-options"] == "SAMEORIGIN"
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'", policy)
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    ontology = server.request("/ontology", headers={"Accept": "text/html"})
    assert ontology.headers["x-frame-options"] == "DENY"


TRICKY_IRIS = (
    "https://w3id.org/opioid-kg///attacker.example/path",
    "https://w3id.org/opioid-kg/\\\\attacker.example/path",
    "https://w3id.org/opioid-kg//attacker.example",
    "javascript:alert(1)",
    "data:text/html,hi",
)


def test_links_go_to_this_site_or_to_absolute_web_iris_only(server) -> None:
    values = " ".join(f"<{iri.replace(chr(92), '%5C')}>" for iri in TRICKY_IRIS[:1] + TRICKY_IRIS[2:])
    values += " <https://w3id.org/opioid-kg/id/substance/fentanyl> <https://example.org/elsewhere>"
    query = f"SELECT ?x WHERE {{ VALUES ?x {{ {values} }} }}"
    page = server.request("/query", headers={"Accept": "text/html"}, params={"query": query})
    assert page.status == 200, page.text
    links = re.findall(r'href="([^"]*)"', page.text)
    assert "/id/substance/fentanyl" in links and "https://example.org/elsewhere" in links
    for link in links:
        # A browser reads `//host`, `///host` and `/\\host` all as another site.
        assert re.match(r"/(?![/\\])|[#?]", link) or link.startswith(("http://", "https://")), link
        if link.startswith("http"):
            assert urllib.parse.urlsplit(link).netloc != EVIL_HOST, link


def test_the_development_server_opens_no_console(built, tmp_path) -> None:
    """`--debug` ran Werkzeug's interactive debugger, whose /console runs Python in the web process for
    whoever has its PIN (written to the log), and served it without the site's headers."""
    debugging = start_server(built.store_path, tmp_path, "--debug", "--port", str(free_port()))
    try:
        for path in ("/console", "/?__debugger__=yes&cmd=resource&f=debugger.js"):
            reply = debugging.request(path)
            assert b"Werkzeug" not in reply.body and b"__debugger__" not in reply.body, path
            assert reply.headers.get("content-security-policy", "").startswith("default-src 'self'"), path
        assert debugging.get("/console").status == 404
    finally:
        debugging.stop()
