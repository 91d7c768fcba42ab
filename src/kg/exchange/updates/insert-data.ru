#+ summary: Add triples to a graph
#+ description: Add the given triples, none with a blank node, to the named graph. $data is their canonical N-Triples lines, as the store's serializer writes them.
#+ answer: update
#+ tags: [push]
#+ params:
#+   - name: graph
#+     type: iri
#+     default: urn:opioid-kg:probe
#+     description: The named graph on the target.
INSERT DATA { GRAPH $graph {
$data
} }
