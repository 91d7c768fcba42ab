"""The README and docs/ document every sub-command and option, and their links lead somewhere."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kg.cli import COMMANDS, main
from kg.cli.context import Context

README_MAX_LINES = 150
LINK = re.compile(r"\]\(([^)\s]+)\)")


def doc_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def all_docs(root: Path) -> str:
    return "\n".join(path.read_text("utf-8") for path in doc_files(root))


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as dashes."""
    headings = re.findall(r"^#+ (.+)$", path.read_text("utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def leaf_commands() -> list[tuple[str, click.Command]]:
    """Every runnable `kg` command, by its full name (`network paths`, `query`)."""
    context = click.Context(main)
    found: list[tuple[str, click.Command]] = []
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", command.commands[sub]) for sub in sorted(command.commands)]
        else:
            found.append((name, command))
    return found


def test_every_command_is_in_the_readme_table(project_root) -> None:
    readme = (project_root / "README.md").read_text("utf-8")
    documented = set(re.findall(r"^\| `kg ([a-z-]+)", readme, flags=re.MULTILINE))
    assert documented == set(COMMANDS)


def test_the_readme_is_short(project_root) -> None:
    assert len((project_root / "README.md").read_text("utf-8").splitlines()) <= README_MAX_LINES


@pytest.mark.parametrize("name, command", leaf_commands(), ids=[name for name, _ in leaf_commands()])
def test_every_option_is_documented(project_root, name: str, command: click.Command) -> None:
    text = all_docs(project_root)
    options = [
        option
        for parameter in command.params
        if isinstance(parameter, click.Option)
        for option in parameter.opts
        if option.startswith("--") and option != "--help"
    ]
    assert [option for option in options if not re.search(rf"(?<![\w-]){option}(?![\w-])", text)] == []


def test_every_link_leads_somewhere(project_root) -> None:
    broken = []
    for path in doc_files(project_root):
        for target in LINK.findall(path.read_text("utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{path.relative_to(project_root)}: {target}")
    assert broken == []


def test_every_docs_page_is_linked_from_the_readme(project_root) -> None:
    readme = (project_root / "README.md").read_text("utf-8")
    linked = {target.partition("#")[0] for target in LINK.findall(readme)}
    pages = {f"docs/{path.name}" for path in (project_root / "docs").glob("*.md")}
    assert pages - linked == set()


def test_the_readmes_first_answer_is_what_kg_prints(project_root, built, monkeypatch) -> None:
    readme = (project_root / "README.md").read_text("utf-8")
    shown = re.search(r"kg query (fentanyl-routes --format readable)\n```\n\n```\n(.*?)…\n```", readme, re.S)
    assert shown, "the README no longer shows its first question's answer"
    monkeypatch.chdir(project_root)
    printed = CliRunner().invoke(main, ["query", *shown.group(1).split(), "--store", str(built.store_path)])
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith(shown.group(2)), printed.output


def test_the_build_summary_shown_counts_what_the_report_builds(project_root, built) -> None:
    """The example of `kg build`'s line in docs/curating.md gave the counts of an older graph (5363
    triples for 5374): the counts shown are the build's own."""
    curating = (project_root / "docs" / "curating.md").read_text("utf-8")
    line = r"^built \d+ triples \([^)]*\); excerpts checked: \d+; violations: \d+;"
    shown = re.search(line, curating, re.M)
    assert shown, "docs/curating.md no longer shows the build's line"
    assert built.result.summary().startswith(shown.group()), (shown.group(), built.result.summary())


def test_make_test_counts_its_workers_where_python_knows_no_cpu_affinity(project_root, tmp_path) -> None:
    """The quick start's `make test` on a machine whose Python has no `os.sched_getaffinity` (macOS):
    the worker count came out empty, and pytest took `--dist` for the count of `-n`."""
    (tmp_path / "sitecustomize.py").write_text("import os\n\ndel os.sched_getaffinity\n", "utf-8")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    planned = subprocess.run(
        ["make", "-n", "test"], cwd=project_root, env=environment, capture_output=True, text=True, check=True
    )
    assert re.search(r"pytest -n [1-9]\d* ", planned.stdout), planned.stdout


def example_commands(root: Path) -> list[tuple[str, list[str]]]:
    """Every `kg` command line of the shell blocks of the README and docs/ (a line continued with `\\`
    joined), by its page; not a synopsis (`[--host …]`) nor a line that leaves words out (`...`)."""
    found = []
    for path in doc_files(root):
        for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", path.read_text("utf-8"), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if re.match(r"(\.venv/bin/)?kg ", line.strip()) and "[" not in line and "..." not in line:
                    found.append((path.name, shlex.split(line, comments=True)[1:]))
    return found


def test_every_example_command_is_one_kg_takes(project_root) -> None:
    """Each example names a command and its options, values and arguments as `kg` parses them: a
    renamed option, a value no longer allowed or a required option added shows here."""
    examples = example_commands(project_root)
    assert len(examples) >= 20
    refused = []
    for page, words in examples:
        command: click.Command | None = main.get_command(click.Context(main), words[0])
        rest = words[1:]
        if isinstance(command, click.Group):
            command, rest = command.commands.get(rest[0]), rest[1:]
        try:
            assert command is not None, "no such command"
            command.make_context(words[0], rest, obj=Context(project_root))
        except (click.UsageError, AssertionError) as error:
            refused.append(f"{page}: kg {shlex.join(words)}: {error}")
    assert refused == []


def test_every_environment_variable_a_command_reads_is_documented(project_root) -> None:
    """The settings given by environment variables stand in the docs and in the `--help` of a command
    (the build's in `kg build --help`, the push's secrets in `kg push --help`), where a user of the
    command looks for what changes it."""
    code = "\n".join(path.read_text("utf-8") for path in (project_root / "src" / "kg").rglob("*.py"))
    variables = set(re.findall(r"\"(KG_[A-Z_]+)\"", code))
    assert len(variables) >= 6
    with click.Context(main) as context:
        names = main.list_commands(context)
    shown = "".join(CliRunner().invoke(main, [name, "--help"]).output for name in names)
    docs = all_docs(project_root)
    assert {variable for variable in variables if variable not in docs or variable not in shown} == set()


def test_every_option_of_kg_itself_is_documented(project_root) -> None:
    """The options before the sub-command (`kg --project DIR`, `kg --version`) are the README's too."""
    text = all_docs(project_root)
    options = [o for p in main.params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")]
    assert len(options) >= 2
    assert [option for option in options if option not in text] == []


# The project's code and its fixed files; `graph/` and `sources/` hold one folder per source, which
# the docs name by example (`sources/s0001/` of a synthetic library).
PROJECT_PATH = re.compile(r"`((?:src|tests|benchmarks|queries|ontology|docs)/[\w./-]*)`")


def test_every_project_path_the_docs_name_is_there(project_root) -> None:
    """A file or folder written in code (`tests/test_fidelity.py`, `src/kg/exchange/updates/`) is in the
    project: a module moved or renamed leaves no page pointing at nothing. A name written as the start
    of several (`src/kg/build/queries/cube-ic-03`, for its `.rq`) counts as there."""
    missing = []
    for path in doc_files(project_root):
        for named in PROJECT_PATH.findall(path.read_text("utf-8")):
            if re.search(r"\b(ID|NAME|OTHER)\b", named):
                continue  # a placeholder
            there = project_root / named.rstrip("/")
            if not there.exists() and not any(there.parent.glob(there.name + "*")):
                missing.append(f"{path.relative_to(project_root)}: {named}")
    assert missing == []


def test_make_serve_names_no_address_it_does_not_serve_on(project_root) -> None:
    """`make serve PORT=0` said "Serving on http://127.0.0.1:0/" above the address kg serve bound."""
    planned = subprocess.run(
        ["make", "-n", "serve", "PORT=0"], cwd=project_root, capture_output=True, text=True, check=True
    )
    assert "kg serve --port 0" in planned.stdout and "127.0.0.1:0" not in planned.stdout, planned.stdout
