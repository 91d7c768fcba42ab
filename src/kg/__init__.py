"""opioid-kg: a knowledge graph of the transnational opioid supply.

The few names a notebook needs, loaded when first used (so that `import kg`
stays cheap for the command line and the query workers):

    import kg
    store = kg.open_store(".kg/store")            # or a SPARQL endpoint URL
    kg.ask(store, "fentanyl-routes").table()      # a question of queries/, by name
    network = kg.flow_network(store)              # the trafficking routes, as networkx
    kg.export("dist/opioid-kg.nq", "data.ttl", "turtle", ("data",))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Public name -> the module that holds it.
_PUBLIC = {
    "EmbeddedStore": "kg.store.embedded",
    "KgError": "kg.errors",
    "NamedQuery": "kg.query.catalogue",
    "QueryResult": "kg.query.run",
    "RemoteStore": "kg.store.remote",
    "Store": "kg.store.base",
    "ask": "kg.query.questions",
    "export": "kg.exchange.export",
    "flow_network": "kg.network.model",
    "load_catalogue": "kg.query.catalogue",
    "open_store": "kg.store.opening",
    "production_network": "kg.network.model",
}
__all__ = [
    "EmbeddedStore",
    "KgError",
    "NamedQuery",
    "QueryResult",
    "RemoteStore",
    "Store",
    "__version__",
    "ask",
    "export",
    "flow_network",
    "load_catalogue",
    "open_store",
    "production_network",
]

if TYPE_CHECKING:
    from kg.errors import KgError
    from kg.exchange.export import export
    from kg.network.model import flow_network, production_network
    from kg.query.catalogue import NamedQuery, load_catalogue
    from kg.query.questions import ask
    from kg.query.run import QueryResult
    from kg.store.base import Store
    from kg.store.embedded import EmbeddedStore
    from kg.store.opening import open_store
    from kg.store.remote import RemoteStore


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return __all__
