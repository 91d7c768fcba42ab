"""`kg serve` behind a real nginx configured with the block docs/serving.md shows: answers and security
headers pass through, the per-client limit counts each real client, and a forged X-Forwarded-For counts
for nothing, sent through the proxy or straight to the server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_fixtures import PROJECT, Reply, RunningServer, free_port, start_server

# /usr/sbin is not on every user's PATH.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")

SIMPLE = "ASK { ?s ?p ?o }"
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
JSON = "application/sparql-results+json"


def documented_block() -> str:
    """The nginx block of docs/serving.md, as a reader would copy it."""
    text = (PROJECT / "docs" / "serving.md").read_text(encoding="utf-8")
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert found, "docs/serving.md shows no nginx block"
    return found.group(1)


def configured(block: str, listen: int, upstream: int, folder: Path) -> str:
    """The documented block on loopback ports, inside the few lines nginx needs to run in `folder`."""
    for shown, used in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("127.0.0.1:5000", f"127.0.0.1:{upstream}"),
    ):
        assert block.count(shown) == 1, f"the documented block no longer has {shown!r}"
        block = block.replace(shown, used)
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n{block}}}\n"
    )


@pytest.fixture(scope="module")
def behind(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, RunningServer]]:
    """(nginx, kg serve): the server trusting the proxy on 127.0.0.1, one query per client at a time."""
    folder = tmp_path_factory.mktemp("nginx")
    server = start_server(
        built.store_path,
        folder,
        "--workers",
        "2",
        "--timeout",
        "1.5",
        "--queue-wait",
        "4",
        "--queries-per-client",
        "1",
        "--trusted-proxy",
        "127.0.0.1",
    )
    port = free_port()
    upstream = int(server.base.rsplit(":", 1)[1])
    config = folder / "nginx.conf"
    config.write_text(configured(documented_block(), port, upstream, folder), encoding="utf-8")
    process = subprocess.Popen(
        [str(NGINX), "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    proxy = RunningServer(f"http://127.0.0.1:{port}", process, folder / "error.log")
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (folder / "error.log").read_text(errors="replace")
            try:
                if (
                    proxy.request(
                        "/sparql", headers={"Accept": JSON}, params={"query": SIMPLE}, timeout=2
                    ).status
                    == 200
                ):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "nginx did not pass a request through within 20 s"
            time.sleep(0.2)
        yield proxy, server
    finally:
        proxy.stop()
        server.stop()


def test_answers_and_security_headers_pass_through(behind) -> None:
    proxy, _ = behind
    reply = proxy.get("/sparql", JSON, query=f"{SIMPLE}\n# through")
    assert reply.status == 200 and reply.json() == {"head": {}, "boolean": True}
    page = proxy.get("/", "text/html")
    assert page.status == 200
    for header in ("content-security-policy", "x-frame-options", "referrer-policy"):
        assert header in page.headers, header


def slow_queries(target: RunningServer, source: str, forged: list[str]) -> list[Reply]:
    """One time-limit query per forged X-Forwarded-For, all at once from `source`."""
    replies: list[Reply] = []

    def ask(n: int, address: str) -> None:
        body = f"query={CROSS}\n# {source} {n} {time.time_ns()}".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": address}
        replies.append(target.request("/sparql", data=body, headers=headers, source=source))

    threads = [threading.Thread(target=ask, args=pair) for pair in enumerate(forged)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return replies


def test_the_per_client_limit_counts_real_clients_and_ignores_forged_addresses(behind) -> None:
    proxy, _ = behind
    forged = [f"10.0.0.{n}" for n in range(4)]
    found: list[Reply] = []
    attack = threading.Thread(target=lambda: found.extend(slow_queries(proxy, "127.0.0.2", forged)))
    attack.start()
    time.sleep(0.5)
    bystander = proxy.get(
        "/sparql", JSON, query=f"{SIMPLE}\n# bystander {time.time_ns()}", source="127.0.0.9"
    )
    attack.join(60)
    assert bystander.status == 200, bystander.body[:200]  # another real client, not the proxy's address
    assert 429 in [reply.status for reply in found], [reply.status for reply in found]


def test_a_forged_forwarded_for_sent_straight_to_the_server_is_not_believed(behind) -> None:
    _, server = behind
    replies = slow_queries(server, "127.0.0.5", [f"10.0.1.{n}" for n in range(4)])
    assert 429 in [reply.status for reply in replies], [reply.status for reply in replies]


@pytest.mark.parametrize(
    "spellings",
    [
        ["10.0.3.1", "::ffff:10.0.3.1", "::ffff:a00:301"],  # three spellings of 10.0.3.1
        ["2001:db8:0:1::1", "2001:db8:0:1::2", "[2001:db8:0:1::3]:80", "[2001:db8:0:1::4]"],
    ],
    ids=["ipv4-and-mapped", "one-ipv6-network"],
)
def test_the_proxy_s_spellings_of_one_client_are_one_client(behind, spellings: list[str]) -> None:
    _, server = behind
    replies = slow_queries(server, "127.0.0.1", spellings)
    assert 429 in [reply.status for reply in replies], [reply.status for reply in replies]


def test_clients_the_proxy_names_by_mapped_or_embedded_ipv4_addresses_are_each_their_own(behind) -> None:
    """An IPv6 address with an IPv4 part is not `host:port`: each is its own client (waitress read
    them all as the one host `::ffff`)."""
    _, server = behind
    addresses = ["::ffff:10.0.4.1", "::ffff:10.0.4.2", "64:ff9b::10.0.4.3", "64:ff9b::10.0.4.4"]
    replies = slow_queries(server, "127.0.0.1", addresses)
    assert 429 not in [reply.status for reply in replies], [reply.status for reply in replies]
