"""A real `kg serve` process on a free loopback port, and a plain HTTP client that never raises on status.

The server tests start the command exactly as a user would (waitress, worker
processes, a built store), so nothing here stands in for the server.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
KG = Path(sys.executable).with_name("kg")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> object:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back as the reply instead of following it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class RunningServer:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def endpoint(self) -> str:
        return self.base + "/sparql"

    def request(
        self,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        timeout: float = 30,
        follow: bool = True,
    ) -> Reply:
        """One request; with `follow` False a redirect is the reply, as a client that looks at it sees it."""
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, data=data, headers=headers or {})
        opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_KeepRedirects)
        try:
            with opener.open(request, timeout=timeout) as response:
                return Reply(
                    response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
                )
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def get(self, path: str, accept: str | None = None, **params: str) -> Reply:
        return self.request(path, headers={"Accept": accept} if accept else {}, params=params or None)

    def get_unfollowed(self, path: str, accept: str) -> Reply:
        return self.request(path, headers={"Accept": accept}, follow=False)

    def post_form(self, path: str, fields: dict[str, str], accept: str | None = None) -> Reply:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if accept:
            headers["Accept"] = accept
        return self.request(path, data=urllib.parse.urlencode(fields).encode(), headers=headers)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(store: Path, log_dir: Path, *options: str) -> RunningServer:
    """`kg serve` on `store` (and the build output beside it, where there is one); returns once /sparql
    answers, or fails with the server's log."""
    port = free_port()
    if (store.parent / "dist").is_dir():
        options = ("--dist", str(store.parent / "dist"), *options)
    log = log_dir / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(KG), "--project", str(PROJECT), "serve", "--store", str(store), "--port", str(port)]
            + list(options),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"kg serve exited with {process.returncode}: {log.read_text(errors='replace')}"
            )
        try:
            if server.get("/sparql", "application/sparql-results+json", query="ASK {}").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"kg serve did not answer within 60 s: {log.read_text(errors='replace')}")
