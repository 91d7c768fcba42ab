"""The client a trusted reverse proxy names, read again from the hop it added to X-Forwarded-For.

waitress reads that hop as `host:port` whenever it holds a colon and a dot, so
an IPv6 address with an IPv4 part (`::ffff:10.0.0.1`, or NAT64's
`64:ff9b::10.0.0.1`) became the host `::ffff` or `64:ff9b:`, and every such
client one client. `kg serve --trusted-proxy` has waitress keep the header of
the trusted proxy's requests only (it removes it from every other peer's), and
this reads the client's address from it.
"""

from __future__ import annotations

from typing import Any

from kg.server.access import StartResponse, WsgiApp


def forwarded_client(app: WsgiApp) -> WsgiApp:
    """`app` seeing, as REMOTE_ADDR, the address in the X-Forwarded-For hop waitress kept."""

    def answer(environ: dict[str, Any], start_response: StartResponse) -> Any:
        hops = environ.get("HTTP_X_FORWARDED_FOR")
        if hops:
            environ["REMOTE_ADDR"] = hop_address(hops.split(",")[-1])
        return app(environ, start_response)

    return answer


def hop_address(hop: str) -> str:
    """The address of one X-Forwarded-For hop: `[v6]:port`, `[v6]`, `v4:port`, or an address alone
    (an IPv6 address has two colons or more, so one colon is a port's)."""
    hop = hop.strip().strip('"')
    if hop.startswith("["):
        return hop[1:].partition("]")[0]
    if hop.count(":") == 1:
        return hop.partition(":")[0]
    return hop
