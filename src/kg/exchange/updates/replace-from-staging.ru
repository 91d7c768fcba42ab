#+ summary: Replace a graph by its staging graph
#+ description: Replace the named graph by the copy of it the push wrote into its staging graph, in one request, so that readers see the old graph or the new one.
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
DROP SILENT GRAPH $graph ;
ADD GRAPH $staging TO GRAPH $graph
