"""The production topology as separate processes, for the deployment test.

As docs/deployment.md runs it, on one machine: a code server (``dagster code-server
start``, the image's command) serving ``ar_pipelines.definitions`` on a free loopback
port; ``dagster-daemon run`` and ``dagster-webserver`` sharing a DAGSTER_HOME whose
dagster.yaml is deploy/dagster.yaml, on a Postgres database made for the site (its
``DAGSTER_PG_*`` variables naming it) and dropped after; and a workspace file that is
deploy/workspace.yaml pointed at the code server's port. The code location's variables
(the practices, the AR keys, the warehouse) are the code server's only, as in
production. The practices are the demo's, generated small, their AR companies in a
sandbox served beside. Only the queue's wait is shortened (``SOONER``).

Every process is stopped at the end, its children too, whatever happened.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import psutil
import psycopg
from psycopg import sql

from ar_pipelines._environment import environment_set
from ar_pipelines.cli.demo import DemoPaths, DemoSize, demo_environment, prepare
from ar_pipelines.local_sandbox import free_port, serving
from ar_pipelines.warehouse.location import PostgresLocation, parse_location

REPOSITORY = Path(__file__).resolve().parents[3]
PRODUCTION_INSTANCE = REPOSITORY / "deploy" / "dagster.yaml"
PRODUCTION_WORKSPACE = REPOSITORY / "deploy" / "workspace.yaml"
CODE_MODULE = "ar_pipelines.definitions"
LOCATION = "ar_pipelines"
# Where deploy/workspace.yaml says the code server is, and where the site's one listens.
WORKSPACE_ADDRESS = ("host: ar-code", "port: 4000")
# The queue is looked at every second rather than every five.
SOONER: dict[str, str] = {
    "user_code_failure_retry_delay: 20": (
        "user_code_failure_retry_delay: 20\n    dequeue_interval_seconds: 1"
    ),
}
# Long enough for a process to load the code location on a busy two-core machine.
READY_SECONDS = 180
STOP_SECONDS = 30
LOG_TAIL = 3000


def bin_of(command: str) -> str:
    """A command of the virtual environment running the tests."""
    return str(Path(sys.executable).with_name(command))


# The image's command (deploy/Dockerfile), and the webserver's.
CODE_SERVER = [bin_of("dagster"), "code-server", "start", "-m", CODE_MODULE]
WEBSERVER = [bin_of("dagster-webserver")]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (pid {self.popen.pid}) ---\n{text[-LOG_TAIL:]}"

    def exited(self) -> bool:
        return self.popen.poll() is not None


@dataclass
class Topology:
    """The running site: the webserver's address, the code server's port, the processes."""

    webserver_url: str
    code_server_port: int
    processes: list[Process]
    home: Path
    variables: dict[str, str]  # the instance file's: DAGSTER_HOME and DAGSTER_PG_*

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The instance the processes share, opened here as they open it."""
        with environment_set(self.variables), dg.DagsterInstance.from_config(str(self.home)) as it:
            yield it

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of a GraphQL request to the webserver; an error if it has errors."""
        response = httpx.post(
            f"{self.webserver_url}/graphql",
            json={"query": query, "variables": variables},
            timeout=60,
        )
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        data: dict[str, Any] = body["data"]
        return data

    def logs(self) -> str:
        """The end of each process's output, for a failure's message."""
        return "\n".join(process.tail() for process in self.processes)

    def check_running(self) -> None:
        for process in self.processes:
            assert not process.exited(), f"{process.name} exited:\n{self.logs()}"


@contextmanager
def fresh_database(server: PostgresLocation, prefix: str) -> Iterator[PostgresLocation]:
    """A new database on ``server`` (its name ``prefix`` and a random suffix), dropped
    afterwards, open connections or not."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**server.connect_kwargs(), autocommit=True) as connection:
        connection.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield dataclasses.replace(server, database=name)
    finally:
        with psycopg.connect(**server.connect_kwargs(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


def postgres_variables(database: PostgresLocation) -> dict[str, str]:
    """The variables deploy/dagster.yaml reads its connection from."""
    return {
        "DAGSTER_PG_HOST": database.host,
        "DAGSTER_PG_PORT": str(database.port),
        "DAGSTER_PG_USER": database.user,
        "DAGSTER_PG_PASSWORD": database.password,
        "DAGSTER_PG_DB": database.database,
    }


def replaced(text: str, replacements: Mapping[str, str], what: str) -> str:
    for old, new in replacements.items():
        assert old in text, f"{what} no longer says {old!r}"
        text = text.replace(old, new)
    return text


def production_home(root: Path, waits: Mapping[str, str]) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml, only its ``waits`` shortened."""
    home = root / "dagster_home"
    home.mkdir()
    settings = replaced(PRODUCTION_INSTANCE.read_text(), waits, "deploy/dagster.yaml")
    (home / "dagster.yaml").write_text(settings)
    return home


def production_workspace(root: Path, port: int) -> Path:
    """deploy/workspace.yaml, pointed at the code server on loopback ``port``."""
    host, port_line = WORKSPACE_ADDRESS
    workspace = replaced(
        PRODUCTION_WORKSPACE.read_text(),
        {host: "host: 127.0.0.1", port_line: f"port: {port}"},
        "deploy/workspace.yaml",
    )
    path = root / "workspace.yaml"
    path.write_text(workspace)
    return path


def started(
    name: str, command: list[str], env: Mapping[str, str], cwd: Path, root: Path
) -> Process:
    """``command`` in a session of its own, its output in a file under ``root``."""
    log = root / f"{name}.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, popen, log)


def stop(processes: list[Process]) -> None:
    """Each process asked to stop, then killed with whatever it started if it has not."""
    family: list[psutil.Process] = []
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            family += psutil.Process(process.popen.pid).children(recursive=True)
        if not process.exited():
            process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()
    for child in family:
        with suppress(psutil.NoSuchProcess):
            child.kill()


def wait_until_listening(port: int, process: Process) -> None:
    """Until something accepts connections on the loopback ``port``: the code server opens
    it once the code location is loaded."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert not process.exited(), f"{process.name} exited:\n{process.tail()}"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{process.name} did not listen within {READY_SECONDS} s")


def wait_until_answering(url: str, process: Process) -> None:
    """Until ``url`` answers 200."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert not process.exited(), f"{process.name} exited:\n{process.tail()}"
        with suppress(httpx.TransportError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{process.name} did not answer {url} within {READY_SECONDS} s")


WORKSPACE = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def wait_until_loaded(topology: Topology) -> None:
    """Until the webserver has loaded the code location from the code server (it answers
    before, while it loads its workspace)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        topology.check_running()
        workspace = topology.graphql(WORKSPACE)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        for entry in workspace["locationEntries"]:
            if entry["name"] != LOCATION or entry["loadStatus"] != "LOADED":
                continue
            loaded = entry["locationOrLoadError"]
            assert loaded["__typename"] != "PythonError", f"{loaded}\n{topology.logs()}"
            return
        time.sleep(0.2)
    raise AssertionError(f"{LOCATION} was not loaded within {READY_SECONDS} s")


@contextmanager
def production_topology(
    root: Path, postgres_url: str, size: DemoSize, waits: Mapping[str, str] = SOONER
) -> Iterator[Topology]:
    """The demo's practices of ``size`` under ``root``, their sandbox served, and the three
    production processes over them and a fresh Postgres database; all stopped after."""
    paths = DemoPaths(root / "demo")
    companies = prepare(paths, size=size, show_progress=False)
    home = production_home(root, waits)
    code_port, web_port = free_port(), free_port()
    workspace = production_workspace(root, code_port)
    processes: list[Process] = []
    with ExitStack() as stack:
        server = parse_location(postgres_url)
        assert isinstance(server, PostgresLocation)
        database = stack.enter_context(fresh_database(server, "dagster_deploy"))
        base_url = stack.enter_context(serving(f"sqlite:///{paths.sandbox}"))
        stack.callback(stop, processes)
        variables = {**postgres_variables(database), "DAGSTER_HOME": str(home)}
        dagster = {**os.environ, **variables}
        # The code location's variables are the code server's alone, as in production.
        code_location = {
            **dagster,
            **demo_environment(paths, companies, base_url, root / "reports"),
            "DAGSTER_HOME": str(home),
            "AR_RETRY_SECONDS": "1",
        }
        code_server = started(
            "code-server",
            [*CODE_SERVER, "-h", "127.0.0.1", "-p", str(code_port)],
            code_location,
            REPOSITORY,
            root,
        )
        processes.append(code_server)
        # The instance's tables, made once before two processes open it at once (as
        # `dagster instance migrate` does before a deployment starts).
        with environment_set(variables), dg.DagsterInstance.from_config(str(home)):
            pass
        wait_until_listening(code_port, code_server)
        processes.append(
            started(
                "daemon",
                [bin_of("dagster-daemon"), "run", "-w", str(workspace)],
                dagster,
                root,
                root,
            )
        )
        webserver = started(
            "webserver",
            [*WEBSERVER, "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace)],
            dagster,
            root,
            root,
        )
        processes.append(webserver)
        webserver_url = f"http://127.0.0.1:{web_port}"
        wait_until_answering(f"{webserver_url}/server_info", webserver)
        topology = Topology(webserver_url, code_port, processes, home, variables)
        wait_until_loaded(topology)
        yield topology
