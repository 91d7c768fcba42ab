"""Questions: the catalogue of named queries, running them on a store, and writing their results."""
