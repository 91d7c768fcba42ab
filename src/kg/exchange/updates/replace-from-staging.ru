#+ summary: Replace a graph by its staging graph
#+ description: Replace the named graph by the copy of it the push wrote into its staging graph, in one request, so that readers see the old graph or the new one; only while the staging graph holds the number of triples the push counted there. A staging graph that is gone (dropped after the push gave up on this request, which a store or a gateway then carried out late), or that another push dropped and began to fill again, changes nothing; DROP then ADD emptied or half-filled the live graph, as ADD from a missing graph succeeds on the stores tried.
#+ answer: update
#+ tags: [push]
#+ params:
#+   - name: graph
#+     type: iri
#+     default: urn:opioid-kg:probe
#+     description: The named graph on the target.
#+   - name: staging
#+     type: iri
#+     default: urn:opioid-kg:probe:staging
#+     description: The staging graph holding the new content.
#+   - name: triples
#+     type: integer
#+     default: 0
#+     description: The triples the push counted in the staging graph, all of the local graph's.
DELETE { GRAPH $graph { ?s ?p ?o } }
WHERE {
  { SELECT (COUNT(*) AS ?staged) WHERE { GRAPH $staging { ?a ?b ?c } } }
  FILTER (?staged = $triples)
  GRAPH $graph { ?s ?p ?o }
} ;
INSERT { GRAPH $graph { ?s ?p ?o } }
WHERE {
  { SELECT (COUNT(*) AS ?staged) WHERE { GRAPH $staging { ?a ?b ?c } } }
  FILTER (?staged = $triples)
  GRAPH $staging { ?s ?p ?o }
}
