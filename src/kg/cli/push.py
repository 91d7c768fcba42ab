"""`kg push`: make the named graphs of a running SPARQL 1.1 store equal to the built ones."""

from __future__ import annotations

import sys

import click
import httpx

from kg.cli.context import Context, Seconds, choice_option, pass_context, store_option
from kg.errors import KgError
from kg.exchange.push import PushError, Target, local_graphs, push
from kg.store.base import ENDPOINT_TIMEOUT

PASSWORD_VARIABLE = "KG_PUSH_PASSWORD"
TOKEN_VARIABLE = "KG_PUSH_TOKEN"


def _named(option: str, variable: str) -> str:
    """How the message names a secret: by the environment variable it came from, else its option."""
    source = click.get_current_context().get_parameter_source(option)
    return variable if source is click.core.ParameterSource.ENVIRONMENT else f"--{option}"


@click.command("push")
@click.option(
    "--endpoint",
    required=True,
    metavar="URL",
    help="The store's SPARQL query endpoint: it counts and reads the live graphs.",
)
@click.option("--update", "update_url", metavar="URL", help="Its SPARQL Update endpoint (required).")
@click.option(
    "--gsp", "gsp_url", metavar="URL", help="Its Graph Store endpoint: new graphs by POST, staging by PUT."
)
@click.option(
    "--bulk",
    is_flag=True,
    help="Send a graph the store lacks to its bulk loader (Oxigraph): faster, not atomic; "
    "a failed load is dropped.",
)
@click.option(
    "--graph", "names", multiple=True, metavar="NAME", help="Push only this named graph (repeatable)."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Most triples in one SPARQL Update request [10000]; Graph Store requests carry whole graphs.",
)
@click.option("--user", default=None, help="User name for HTTP authentication.")
@click.option(
    "--password",
    default=None,
    envvar=PASSWORD_VARIABLE,
    show_envvar=True,
    help="Password for HTTP authentication; in the environment, no other user of the machine sees it.",
)
@choice_option(
    "--auth",
    "scheme",
    ["basic", "digest"],
    "basic",
    "How --user and --password are sent (Virtuoso's -auth endpoints want digest).",
)
@click.option(
    "--token",
    default=None,
    envvar=TOKEN_VARIABLE,
    show_envvar=True,
    help="A bearer token, sent as 'Authorization: Bearer TOKEN'; in the environment, unseen by others.",
)
@click.option(
    "--timeout",
    type=Seconds(),
    default=ENDPOINT_TIMEOUT,
    show_default=True,
    help="Seconds allowed per request; a graph of millions of triples in one request may need more.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Retries on transient errors; 0: none.",
)
@store_option("Embedded store to push", folder_only=True)
@pass_context
def push_command(
    context: Context,
    endpoint: str,
    update_url: str | None,
    gsp_url: str | None,
    bulk: bool,
    names: tuple[str, ...],
    batch_size: int | None,
    user: str | None,
    password: str | None,
    scheme: str,
    token: str | None,
    timeout: float,
    retries: int,
    store_spec: str | None,
) -> None:
    """Make the named graphs of a running SPARQL 1.1 store equal to the built ones.

    Only what differs is sent, each graph whole or not at all: all changes in one
    update request when they fit, else a request per graph (a new graph by one
    Graph Store POST with --gsp), else through a staging graph copied over the
    live one in one update. With --bulk a new graph goes to the store's bulk
    loader, not atomically, as Virtuoso loads a Graph Store POST: a failed load
    is dropped. Then the triple count of every graph on the store is checked
    against the local one.
    """
    if update_url is None:
        raise KgError("give --update URL: changes and copies from staging graphs go by SPARQL Update")
    if password is not None and user is None:
        raise KgError(
            f"{_named('password', PASSWORD_VARIABLE)} without --user: give the user name it goes with"
        )
    given = click.get_current_context().get_parameter_source("scheme")
    if given is click.core.ParameterSource.COMMANDLINE and user is None:
        raise KgError("--auth without --user: it says how --user and --password are sent")
    if token is not None and user is not None:
        raise KgError(
            f"give {_named('token', TOKEN_VARIABLE)} or --user and --password, not both: a request carries "
            "one Authorization"
        )
    auth: httpx.Auth | None = None
    if user is not None:
        credentials = (user, password or "")
        auth = httpx.DigestAuth(*credentials) if scheme == "digest" else httpx.BasicAuth(*credentials)
    target = Target(
        endpoint, update_url, gsp_url, auth, token, timeout, retries, batch_size=batch_size, bulk=bulk
    )
    store = context.embedded_store(store_spec, "kg push")
    total = sum(local_graphs(store, names).values())
    if sys.stderr.isatty():
        label = "pushing by Graph Store and SPARQL Update" if gsp_url else "pushing by SPARQL Update"
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            report = push(store, target, names, bar.update)
    else:
        report = push(store, target, names)
    click.echo(report.table())
    for note in report.notes:
        click.echo(f"warning: {note}", err=True)
    if not report.verified:
        raise PushError("the triple counts on the store differ from the local ones")
