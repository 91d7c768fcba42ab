"""Supply chains as networks: built from the store, analysed, drawn and exported."""

from .model import flow_network, production_network, substance_family

__all__ = ["flow_network", "production_network", "substance_family"]
