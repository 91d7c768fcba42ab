#+ summary: Add triples with blank nodes to a graph
#+ description: Add the given triples to the named graph as a template with an empty WHERE, which Virtuoso takes where it refuses blank nodes in INSERT DATA. $data is their canonical N-Triples lines, as the store's serializer writes them.
#+ answer: update
#+ tags: [push]
#+ params:
#+   - name: graph
#+     type: iri
#+     default: urn:opioid-kg:probe
#+     description: The named graph on the target.
INSERT { GRAPH $graph {
$data
} } WHERE {}
