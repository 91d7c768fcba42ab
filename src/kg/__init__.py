"""opioid-kg: a knowledge graph of the transnational opioid supply."""

__version__ = "0.1.0"
