"""The build: sources and curated Turtle, checked, into the canonical dataset and the embedded store."""
