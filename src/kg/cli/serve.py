"""The `kg serve` command: the app behind waitress, or Flask's development server with --debug."""

from __future__ import annotations

import ipaddress
import os
import signal
from pathlib import Path

import click

from kg.cli.context import Context, Seconds, pass_context, store_option
from kg.network.canvas import import_in_background
from kg.server.config import (
    DEFAULT_CACHE_MB,
    DEFAULT_CLIENT_BUDGET,
    DEFAULT_HTML_ROWS,
    DEFAULT_MAX_ANSWER_MB,
    DEFAULT_MAX_ROWS,
    DEFAULT_OWN_MAX_ROWS,
    DEFAULT_QUEUE_WAIT,
    DEFAULT_STORE_REFRESH,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKER_MEMORY_MB,
    ServerConfig,
    public_base,
)
from kg.store.base import shown_url
from kg.store.embedded import check_built
from kg.store.generations import generation_id
from kg.store.opening import is_endpoint


def _ip_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The proxy's IP address as its peers are named (`::1`, not `0:0:0:0:0:0:0:1`): a name or a typo
    would match no peer, and every client behind the proxy would share its one per-client limit."""
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an IP address (the proxy's, as 127.0.0.1 or ::1)"
        ) from None


def _described(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A --dist given is a build's output, holding the description it is named for: a mistyped one
    served, and every client asking for the description was told to build first."""
    if value is not None and not (value / "void.ttl").is_file():
        raise click.BadParameter(f"{value} holds no void.ttl: give the folder a build wrote (its dist/)")
    return value


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on; 0: a free one, printed at start.",
)
@store_option("Store to serve: an embedded store's folder or a SPARQL endpoint URL", endpoint_timeout=False)
@click.option(
    "--timeout",
    type=Seconds(),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds a query may run before its worker is stopped (answer 504).",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_ROWS,
    show_default=True,
    help="Rows (or triples) an answer may hold; a capped answer says KG-Truncated: true.",
)
@click.option(
    "--own-max-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_OWN_MAX_ROWS,
    show_default=True,
    help="Rows an answer to the server's own queries (network pictures, charts, search) may hold; "
    "one past it is an error, never a partial picture.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=max(2, os.cpu_count() or 2),
    show_default=True,
    help="Query worker processes (queries that run at the same time).",
)
@click.option(
    "--cache-mb",
    type=click.IntRange(min=0),
    default=DEFAULT_CACHE_MB,
    show_default=True,
    help="Memory for recent answers (the store is read-only, so they stay right); 0 turns it off.",
)
@click.option(
    "--worker-memory-mb",
    type=click.IntRange(min=1),
    default=DEFAULT_WORKER_MEMORY_MB,
    show_default=True,
    help="Address space a query worker may use; a query past it is answered 503 and its worker replaced.",
)
@click.option(
    "--in-memory",
    is_flag=True,
    help="Copy each build's store into memory once and fork every worker with it: queries cost 1.4-7x "
    "less CPU, for a copy of about 355 MB per million triples that each worker comes to hold privately.",
)
@click.option(
    "--queries-per-client",
    type=click.IntRange(min=0),
    default=0,
    help="Queries one client address may run at once; more are answered 429 [default, and 0: half the "
    "workers].",
)
@click.option(
    "--store-refresh",
    type=Seconds(zero=True),
    default=DEFAULT_STORE_REFRESH,
    show_default=True,
    help="With --store URL: seconds after which the store is read again as a new generation (its graphs "
    "counted, its pages read ahead), so that a change to it (kg push) is seen; 0: read once.",
)
@click.option(
    "--queue-wait",
    type=Seconds(zero=True),
    default=DEFAULT_QUEUE_WAIT,
    show_default=True,
    help="Seconds a query waits for a free worker before the answer is 503; 0: none.",
)
@click.option(
    "--client-budget",
    type=Seconds(),
    default=DEFAULT_CLIENT_BUDGET,
    show_default=True,
    help="Worker-seconds a client may have used lately (halving each minute); past it, 429 with Retry-After.",
)
@click.option(
    "--max-answer-mb",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_ANSWER_MB,
    show_default=True,
    help="Size a SPARQL query's answer may take as written; a larger one is cut to fewer rows, flagged.",
)
@click.option(
    "--html-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_HTML_ROWS,
    show_default=True,
    help="Rows a web page shows of an answer; the page links the whole answer as CSV and JSON.",
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="HTTP threads [default: 4 x workers]."
)
@click.option(
    "--connection-limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Open HTTP connections at once; idle and slow-header ones count too.",
)
@click.option(
    "--idle-timeout",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help=(
        "Seconds a connection may send nothing, or leave its answer unread, before it is closed"
        " (a query being answered is exempt)."
    ),
)
@click.option(
    "--request-timeout",
    type=Seconds(),
    default=30,
    show_default=True,
    help="Seconds a request (head and body) may take to arrive whole, however steadily it trickles in.",
)
@click.option(
    "--connections-per-client",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Open HTTP connections one address may hold; the trusted proxy is exempt.",
)
@click.option(
    "--trusted-proxy",
    default=None,
    metavar="ADDRESS",
    callback=_ip_address,
    help="IP address of a reverse proxy whose X-Forwarded-For names the client (for the per-client limit).",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Where clients reach this server, for the VoID and service descriptions [default: http://HOST:PORT/].",
)
@click.option(
    "--dist",
    type=click.Path(path_type=Path),
    default=None,
    callback=_described,
    help="Build output whose dataset description (void.ttl) is served [default: the served generation's "
    "own, else PROJECT/dist].",
)
@click.option(
    "--debug", is_flag=True, help="Flask's development server, tracebacks in its log (no debugger)."
)
@pass_context
def serve_command(
    context: Context,
    host: str,
    port: int,
    store_spec: str | None,
    timeout: float,
    max_rows: int,
    own_max_rows: int,
    workers: int,
    cache_mb: int,
    worker_memory_mb: int,
    in_memory: bool,
    queries_per_client: int,
    store_refresh: float,
    queue_wait: float,
    client_budget: float,
    max_answer_mb: int,
    html_rows: int,
    threads: int | None,
    connection_limit: int,
    idle_timeout: int,
    request_timeout: float,
    connections_per_client: int,
    trusted_proxy: str | None,
    base_url: str | None,
    dist: Path | None,
    debug: bool,
) -> None:
    """Serve the built store: SPARQL at /sparql, the web UI at /, every dataset IRI under /id/."""
    from kg.server import create_app
    from kg.server.access import access_log, configure_logging
    from kg.server.forwarded import forwarded_client
    from kg.server.http import create_server, listen
    from kg.server.read_ahead import read_ahead

    project = context.project
    spec = context.store_spec(store_spec)
    if in_memory and is_endpoint(spec):
        raise click.UsageError(
            "--in-memory copies an embedded store into memory; a SPARQL endpoint is read where it is"
        )
    if is_endpoint(spec):
        from kg.store.remote import check_endpoint_url  # httpx loads only for an endpoint

        check_endpoint_url(spec)
    else:
        check_built(Path(spec))
        spec = os.path.abspath(spec)  # not resolved: a link to the current generation is followed later
    listening = None if debug else listen(host, port)
    bound = listening.getsockname()[1] if listening is not None else port
    try:
        public = public_base(base_url, host, bound)
    except ValueError as error:
        if base_url is None:  # none given, for a server on every address
            raise click.UsageError(str(error)) from None
        raise click.BadParameter(str(error), param_hint="--base-url") from None
    config = ServerConfig(
        store=spec,
        base_url=public,
        project=project.resolve(),
        built=Path(os.path.abspath(dist)) if dist is not None else None,
        timeout=timeout,
        max_rows=max_rows,
        own_max_rows=own_max_rows,
        workers=workers,
        cache_mb=cache_mb,
        worker_memory_mb=worker_memory_mb,
        client_queries=queries_per_client,
        queue_wait=queue_wait,
        client_budget=client_budget,
        html_rows=html_rows,
        max_answer_mb=max_answer_mb,
        isolate_network=not is_endpoint(spec),
        in_memory=in_memory,
        threads=threads or 0,
        store_refresh=store_refresh,
    )
    app = create_app(config)
    generations = app.extensions["kg"]
    protections = generations.current.services.pool.start()
    click.echo(protections.describe(), err=True)
    configure_logging()
    shown = (
        spec if is_endpoint(spec) else f"{spec} (generation {generation_id(spec)}; new builds are taken up)"
    )
    listened = f"[{host}]" if ":" in host else host  # an IPv6 address is bracketed in a URL
    click.echo(
        shown_url(f"serving {shown} on http://{listened}:{bound}/ (SPARQL at /sparql)", spec), err=True
    )
    if listening is None:
        # never Werkzeug's interactive debugger: its /console runs Python for whoever has its PIN
        app.run(host=host, port=port, debug=True, use_reloader=False, use_debugger=False)
        return
    read_ahead(app)
    import_in_background()  # matplotlib, before the first picture asks for it
    # waitress removes X-Forwarded-For from every peer but the proxy; `forwarded_client` reads it
    proxy = {
        "trusted_proxy": trusted_proxy,
        "trusted_proxy_headers": {"x-forwarded-for"},
        "clear_untrusted_proxy_headers": True,
    }
    server = create_server(
        access_log(forwarded_client(app) if trusted_proxy else app),
        listening,
        threads=config.http_threads,
        ident="opioid-kg",
        connection_limit=connection_limit,
        channel_timeout=idle_timeout,
        request_deadline=request_timeout,
        per_address=connections_per_client,
        cleanup_interval=max(1, int(min(idle_timeout / 2, request_timeout / 2, 5))),
        asyncore_use_poll=True,  # select() cannot watch more than 1024 connections
        # refused on its header: waitress's own limit (1 GB) buffers a body to disk before the app sees it
        max_request_body_size=config.max_body,
        **(proxy if trusted_proxy else {}),
    )
    signal.signal(signal.SIGTERM, _exit)
    try:
        server.run()  # returns once Ctrl-C or SIGTERM stopped it: waitress catches both
    finally:
        generations.close()  # a worker in the middle of a query would run on otherwise
    click.echo("stopped", err=True)


def _exit(signum: int, frame: object) -> None:
    """SIGTERM ends the server as Ctrl-C does (status 0), so that its query workers are stopped with it."""
    raise SystemExit(0)
