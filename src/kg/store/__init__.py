"""The store: the `Store` interface every reader asks through, the embedded and remote stores,
canonical N-Triples.
"""
