#+ summary: Remove triples from a graph
#+ description: Remove the given triples, none with a blank node, from the named graph. $data is their canonical N-Triples lines, as the store's serializer writes them.
#+ answer: update
#+ tags: [push]
#+ params:
#+   - name: graph
#+     type: iri
#+     default: urn:opioid-kg:probe
#+     description: The named graph on the target.
DELETE DATA { GRAPH $graph {
$data
} }
