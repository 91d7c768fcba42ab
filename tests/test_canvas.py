"""matplotlib as the project draws with it: a text is drawn as written, and drawing leaves the
process's other parsers (rdflib's SPARQL grammar) as fast as they were."""

from __future__ import annotations

import re

import pyparsing

from kg.network import canvas
from kg.network.draw import save


def test_a_text_with_two_dollar_amounts_is_drawn_as_written() -> None:
    """Not read as a formula between the dollar signs (mathtext), which would drop them."""
    figure = canvas.Figure(figsize=(4, 1))
    figure.text(0.1, 0.5, "from $2.9 billion to $59 million")
    svg = save(figure, "svg").decode()
    assert re.findall(r"<text[^>]*>([^<]*)</text>", svg) == ["from $2.9 billion to $59 million"]


def test_drawing_leaves_no_grammar_of_the_process_memoized() -> None:
    """matplotlib's mathtext turns on pyparsing's memo for every grammar of the process, which makes
    rdflib's SPARQL parser (the server's query guard) more than twice as slow. A memo shows in the
    parse actions: an alternative tried twice at one place runs its action once."""
    canvas.Figure  # noqa: B018  # matplotlib imported, as the first picture a process draws does
    actions: list[str] = []
    word = pyparsing.Word(pyparsing.alphas).add_parse_action(lambda tokens: actions.append(tokens[0]))
    (word + "x" | word + "y").parse_string("foo y")
    assert actions == ["foo", "foo"]
