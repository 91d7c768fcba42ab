#+ summary: Replace a graph by its staging graph
#+ description: Replace the named graph by the copy of it the push wrote into its staging graph, in one request, so that readers see the old graph or the new one. A staging graph that is gone (dropped after the push gave up on this request, which a store or a gateway then carried out late, or by another push) changes nothing; DROP then ADD emptied the live graph, as ADD from a missing graph succeeds on the stores tried.
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
DELETE { GRAPH $graph { ?s ?p ?o } }
WHERE {
  { SELECT ?staged WHERE { GRAPH $staging { ?staged ?with ?value } } LIMIT 1 }
  GRAPH $graph { ?s ?p ?o }
} ;
INSERT { GRAPH $graph { ?s ?p ?o } } WHERE { GRAPH $staging { ?s ?p ?o } }
