"""Apache Jena's SHACL engine (Debian's libapache-jena-java), run as a program, and SHACL reports
read as sets both engines can agree on (shapes that are blank nodes told apart by their
constraint component and path): the tests and `benchmarks/shacl_engines.py` hold the build's
verdict against Jena's with this one reading."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from kg.build.shape_queries import Unsupported, property_path

JAVA = Path("/usr/share/java")  # where Debian's libapache-jena-java puts its jars
JENA_CORE = JAVA / "jena-core.jar"
JARS = (
    "jena-arq jena-base jena-cmds jena-core jena-iri jena-shacl jena-shex jena-rdfconnection "
    "jena-dboe-base jena-dboe-index jena-dboe-storage jena-dboe-trans-data jena-dboe-transaction jena-tdb "
    "jena-tdb2 slf4j-api slf4j-simple jcl-over-slf4j commons-cli commons-codec commons-compress commons-csv "
    "commons-io commons-lang3 dexx.collection gson guava httpclient httpclient-cache httpcore jackson-core "
    "jackson-databind jackson-annotations jakarta.json-api jsonld-java titanium-json-ld protobuf thrift"
).split()
# Debian's jena-core jar leaves these resources where its bundled Xerces does not look for them.
XERCES = "org/apache/jena/ext/"
MESSAGES = [
    "xerces/impl/xpath/regex/message.properties",
    "xerces/impl/msg/DatatypeMessages.properties",
    "xerces/impl/msg/XMLSchemaMessages.properties",
]
needs_jena = pytest.mark.skipif(
    not JENA_CORE.is_file() or shutil.which("java") is None,
    reason="Apache Jena or Java is not installed (apt-get install libapache-jena-java default-jre-headless)",
)
Key = tuple[str, str, str, str, str]  # focus node, shape, constraint component, path, value


def jena_classpath(work: Path) -> str:
    """The class path of Debian's libapache-jena-java, with the resources its Xerces misses put in `work`."""
    if not JENA_CORE.is_file():
        raise FileNotFoundError(f"{JENA_CORE} is missing: install Debian's libapache-jena-java")
    resources = work / "jena-resources"
    with zipfile.ZipFile(JENA_CORE) as jar:
        for placed in MESSAGES:
            target = resources / placed
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(jar.read(XERCES + placed))
    return ":".join([str(resources), *(str(JAVA / f"{name}.jar") for name in JARS)])


def shacl_command(classpath: str, data: Path, shapes: Path, heap_mb: int | None = None) -> list[str]:
    """Jena's `shacl validate` of `data` against `shapes` (in a Java heap of `heap_mb`, where given); it
    prints its report as Turtle."""
    heap = [f"-Xmx{heap_mb}m"] if heap_mb is not None else []
    validate = ["shacl.shacl", "validate", "--shapes", str(shapes), "--data", str(data)]
    return ["java", *heap, "-cp", classpath, *validate]


def jena_report(data: Path, shapes: Path, work: Path) -> Graph:
    """Jena's validation report of `data` against `shapes` (files Jena reads by their extension)."""
    done = subprocess.run(
        shacl_command(jena_classpath(work), data, shapes), capture_output=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"Jena's shacl validate exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return Graph().parse(data=done.stdout, format="turtle")


def read_verdict(report: Graph) -> tuple[str, set[Key], int]:
    """Whether a SHACL report conforms, its results as comparable keys, and how many results it lists
    (Jena lists a SPARQL constraint's result once per row of its SELECT, the same row twice included;
    the build's engine once)."""
    conforms = next(report.objects(None, SH.conforms), None)
    results = set(report.subjects(RDF.type, SH.ValidationResult))
    keys = {
        (
            term_text(report, report.value(result, SH.focusNode)),
            term_text(report, report.value(result, SH.sourceShape)),
            term_text(report, report.value(result, SH.sourceConstraintComponent)),
            term_text(report, report.value(result, SH.resultPath)),
            term_text(report, report.value(result, SH.value)),
        )
        for result in results
    }
    return str(conforms).lower(), keys, len(results)


def term_text(graph: Graph, node: Node | None) -> str:
    """A term as both engines' reports can agree on it: IRIs and literals as N-Triples, a SHACL path
    written out as the build writes it (`^<p>`, `(<p> / <q>)`), any other blank node as `[]`. A double
    or a float is compared by its value: the store keeps a double's value, not its spelling (`"347.0"`
    is read back `"347"`), and Jena's report writes it `"347.0"` again."""
    if node is None:
        return "-"
    if isinstance(node, Literal) and node.datatype in (XSD.double, XSD.float):
        return f"{float(node)!r}^^<{node.datatype}>"
    if not isinstance(node, BNode):
        return node.n3()
    try:
        return property_path(graph, node)
    except Unsupported:
        return "[]"
