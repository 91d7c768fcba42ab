#+ summary: Remove a graph
#+ description: Remove the named graph with its triples, if the target holds it (a push replacing a graph whole, a staging graph, the probe graph).
#+ answer: update
#+ tags: [push]
#+ params:
#+   - name: graph
#+     type: iri
#+     default: urn:opioid-kg:probe
#+     description: The named graph on the target.
DROP SILENT GRAPH $graph
