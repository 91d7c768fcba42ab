#+ summary: Remove a graph's triples with blank nodes
#+ description: Remove from the named graph every triple whose subject or object is a blank node. A blank node has no name outside its store, so these triples cannot be deleted one by one; the push inserts the local ones again after.
#+ answer: update
#+ tags: [push]
#+ params:
#+   - name: graph
#+     type: iri
#+     default: urn:opioid-kg:probe
#+     description: The named graph on the target.
DELETE { GRAPH $graph { ?s ?p ?o } } WHERE { GRAPH $graph { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } }
