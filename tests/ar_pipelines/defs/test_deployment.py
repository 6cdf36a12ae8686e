"""The production topology (see ``deployment_site``): a code server, the daemon and the
webserver as separate processes on deploy/dagster.yaml and a workspace like
deploy/workspace.yaml, with Dagster's storage in Postgres. One nightly run of one tiny
practice goes through it as the UI sends one: through the webserver's GraphQL API, with
the partition's tags and run config the code location gives."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import httpx
import pytest
import yaml

from ar_pipelines.cli.demo import DemoSize
from ar_pipelines.defs.common import AR_KEY_TAG
from tests.ar_pipelines.defs.deployment_site import LOCATION, Topology, production_topology
from tests.conftest import POSTGRES_ENV, configured_server

pytestmark = pytest.mark.postgres

SIZE = DemoSize(practices=1, patients=20, months=2)
PRACTICE = "P001"
JOB = "nightly_sync"
GRPC_INFO_TAG = ".dagster/grpc_info"
# Long enough for a run on a busy two-core machine; a run that takes longer has hung.
RUN_DEADLINE_SECONDS = 600
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

REPOSITORIES = """
query {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
  }
}
"""
PARTITION = """
query Partition($repository: RepositorySelector!, $partitionSet: String!, $partition: String!) {
  partitionSetOrError(repositorySelector: $repository, partitionSetName: $partitionSet) {
    __typename
    ... on PartitionSet {
      partition(partitionName: $partition) {
        tagsOrError { __typename ... on PartitionTags { results { key value } } }
        runConfigOrError { __typename ... on PartitionRunConfig { yaml } }
      }
    }
  }
}
"""
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
  }
}
"""
EVENTS = """
query Events($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  }
}
"""


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    postgres = configured_server(
        POSTGRES_ENV, "Postgres", "postgresql://postgres@127.0.0.1:5432/test"
    )
    with production_topology(tmp_path_factory.mktemp("deployment"), postgres, SIZE) as site:
        yield site


def repository_of(topology: Topology) -> dict[str, Any]:
    answer = topology.graphql(REPOSITORIES)["repositoriesOrError"]
    assert answer["__typename"] == "RepositoryConnection", f"{answer}\n{topology.logs()}"
    found = [r for r in answer["nodes"] if r["location"]["name"] == LOCATION]
    assert len(found) == 1, f"{LOCATION} is not loaded: {answer}\n{topology.logs()}"
    repository: dict[str, Any] = found[0]
    return repository


def events_of(topology: Topology, run_id: str) -> list[dict[str, Any]]:
    answer = topology.graphql(EVENTS, runId=run_id)["logsForRun"]
    assert answer["__typename"] == "EventConnection", answer
    events: list[dict[str, Any]] = answer["events"]
    return events


def finished(topology: Topology, run_id: str) -> dict[str, Any]:
    """The run once it has ended, as the webserver shows it."""
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while True:
        run: dict[str, Any] = topology.graphql(RUN, runId=run_id)["runOrError"]
        if run["status"] in FINISHED:
            return run
        topology.check_running()
        assert time.monotonic() < deadline, f"run {run_id} is {run['status']}:\n{topology.logs()}"
        time.sleep(0.5)


def test_the_webserver_answers_its_health_endpoint(topology: Topology) -> None:
    response = httpx.get(f"{topology.webserver_url}/server_info", timeout=10)

    assert response.status_code == 200
    assert response.json()["dagster_version"] == dg.__version__


def test_the_webserver_loads_the_code_location_from_the_code_server(topology: Topology) -> None:
    repository = repository_of(topology)

    assert JOB in {job["name"] for job in repository["jobs"]}


def test_a_nightly_run_sent_to_the_webserver_is_queued_launched_by_the_daemon_and_succeeds(
    topology: Topology,
) -> None:
    repository = repository_of(topology)
    selector = {"repositoryName": repository["name"], "repositoryLocationName": LOCATION}
    partition = topology.graphql(
        PARTITION,
        repository=selector,
        partitionSet=f"{JOB}_partition_set",
        partition=PRACTICE,
    )["partitionSetOrError"]["partition"]
    tags = {tag["key"]: tag["value"] for tag in partition["tagsOrError"]["results"]}
    # The code location, through the code server, tags the practice's runs by AR key.
    assert tags[AR_KEY_TAG] == f"AR_API_KEY_{PRACTICE}"
    run_config = yaml.safe_load(partition["runConfigOrError"]["yaml"]) or {}
    # One worker process for the whole run (the steps' own processes would only be slower);
    # nothing retries it, so a run that failed stays failed.
    run_config["execution"] = {"config": {"in_process": {}}}
    tags["dagster/max_retries"] = "0"

    launched = topology.graphql(
        LAUNCH,
        params={
            "selector": {**selector, "jobName": JOB},
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        },
    )["launchRun"]

    assert launched["__typename"] == "LaunchRunSuccess", launched
    assert launched["run"]["status"] == "QUEUED"
    run_id = launched["run"]["runId"]
    run = finished(topology, run_id)
    events = events_of(topology, run_id)
    failures = [e.get("message") for e in events if "Failure" in e["__typename"]]
    assert run["status"] == "SUCCESS", f"{failures}\n{topology.logs()}"
    # The queue (the daemon) launched it, on the code server of the workspace, which
    # started the run's worker process.
    statuses = [
        e["__typename"]
        for e in events
        if e["__typename"]
        in {"RunEnqueuedEvent", "RunStartingEvent", "RunStartEvent", "RunSuccessEvent"}
    ]
    assert statuses == ["RunEnqueuedEvent", "RunStartingEvent", "RunStartEvent", "RunSuccessEvent"]
    with topology.instance() as instance:
        stored = instance.get_run_by_id(run_id)
    assert stored is not None
    assert json.loads(stored.tags[GRPC_INFO_TAG])["port"] == topology.code_server_port
    assert stored.tags[AR_KEY_TAG] == f"AR_API_KEY_{PRACTICE}"
    assert any(str(e.get("message", "")).startswith("Started process for run") for e in events), (
        "the code server recorded no worker process for the run"
    )
