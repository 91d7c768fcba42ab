"""The first view of each kind of page a visitor opens one by one, on a large kept build.

Run as `.venv/bin/python benchmarks/pages.py PROJECT [PATH ...]` on a kept build
(`benchmarks/scale.py --sources 6000 --keep DIR`). It answers each path with the server's
app in this process, over real query workers and the default limits (10 s a query), without
the read-ahead `kg serve` starts, so that each page is read for itself and nothing else
runs meanwhile. It prints, per path, the status and the time of a first view and of a
second (the second may come from the answer cache). By default it opens the pages of the
things most linked to, the named graph pages, the editor, the downloads and a question.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kg.server import ServerConfig, create_app

PATHS = (
    "/id/country/MX",
    "/id/country/US",
    "/id/country/CN",
    "/id/substance/fentanyl",
    "/id/substance/heroin",
    "/id/organization/dea",
    "/id/organization/crs",
    "/id/scheme/substances",
    "/id/flow/s0001-china-mexico-us-fentanyl",
    "/id/excerpt/s0001-fentanyl-sources",
    "/id/country/MX.ttl",
    "/source",
    "/ontology",
    "/graph/data",
    "/graph/shapes",
    "/query",
    "/downloads",
    "/queries/evidence",
    "/",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a kept build (its .kg/store and dist are read)")
    parser.add_argument("paths", nargs="*", default=PATHS)
    args = parser.parse_args()
    project = args.project.resolve()
    config = ServerConfig(store=str(project / ".kg" / "store"), project=project)  # as `kg serve` opens it
    app = create_app(config)
    app.extensions["kg"].current.services.pool.start()  # as `kg serve` does before it listens
    client = app.test_client()
    print(f"{'path':<40} {'status':>6} {'first ms':>10} {'second ms':>10}")
    try:
        for path in args.paths:
            times, statuses = [], []
            for _ in range(2):
                started = time.perf_counter()
                reply = client.get(path, headers={"Accept": "text/html"})
                times.append((time.perf_counter() - started) * 1000)
                statuses.append(reply.status_code)
            status = "/".join(str(s) for s in dict.fromkeys(statuses))
            print(f"{path:<40} {status:>6} {times[0]:>10.1f} {times[1]:>10.1f}", flush=True)
    finally:
        app.extensions["kg"].close()


if __name__ == "__main__":
    main()
