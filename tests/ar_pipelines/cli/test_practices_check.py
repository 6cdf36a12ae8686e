"""``ar-pipelines practices check``: the practices file, its variables, each practice's
source and AR key, and the warehouse, checked against real ones: a generated SQLite
source, the Sikka look-alike and the AR sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ar_pipelines.cli import main
from ar_pipelines.local_sandbox import free_port
from ar_pipelines.warehouse import open_warehouse
from tests.ar_pipelines.defs.conftest import Pipeline
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()


def check(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """The exit status, the table's lines and standard error of a check of the
    pipeline's practices file."""
    status = main(["practices", "check", "--file", str(pipeline.root / "practices.toml")])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def rows(lines: list[str]) -> dict[str, str]:
    """Each row's result, by its label."""
    found = {}
    for line in lines:
        label, _, result = line.partition("  ")
        found[label] = result.strip()
    return found


def replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def sikka(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSikka]:
    """The look-alike serving the pipeline's source as Sikka's office; P002 read through it."""
    with running_sikka(create_sikka_app(pipeline.source_url, credentials=CREDENTIALS)) as api:
        monkeypatch.setenv("SIKKA_APP_ID", CREDENTIALS.app_id)
        monkeypatch.setenv("SIKKA_APP_KEY", CREDENTIALS.app_key)
        path = pipeline.root / "practices.toml"
        text = path.read_text()
        head, _, p002 = text.partition('[[practices]]\nid = "P002"\n')
        p002 = p002.replace(f'source = "{pipeline.source_url}"\n', "")
        path.write_text(
            head
            + "[[practices]]\n"
            + 'id = "P002"\n'
            + 'source = "sikka"\n'
            + f'sikka_base_url = "{api.base_url}/v4"\n'
            + f'office_id = "{CREDENTIALS.office_id}"\n'
            + 'sikka_app_id_env = "SIKKA_APP_ID"\n'
            + 'sikka_app_key_env = "SIKKA_APP_KEY"\n'
            + p002
        )
        yield api


def test_good_settings_give_every_row_ok_and_exit_0(
    pipeline: Pipeline, sikka: RunningSikka, capsys: pytest.CaptureFixture[str]
) -> None:
    open_warehouse(pipeline.warehouse_url).close()  # as a first run leaves it

    status, lines, err = check(pipeline, capsys)

    assert lines == [
        "practice P001  OK",
        "practice P002  OK",
        "warehouse      OK",
    ]
    assert status == 0
    assert err == ""
    assert sikka.state.grants == ["request_key"]  # P002's row took a request key


def test_a_file_that_does_not_validate_exits_2_with_its_one_line_on_stderr(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pipeline.root / "practices.toml"
    replace_line(path, "quarantine_threshold = 0.2", 'quarantine_threshold = "high"')

    status, lines, err = check(pipeline, capsys)

    assert status == 2
    assert lines == []
    assert err == (
        f"ar-pipelines: {path}: [defaults]: quarantine_threshold: "
        "must be a number between 0 and 1\n"
    )


def test_an_unset_variable_is_named_in_its_practices_row_and_exits_1(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AR_SA_CAMPAIGN_P002")

    status, lines, _ = check(pipeline, capsys)

    assert rows(lines) == {
        "practice P001": "OK",
        "practice P002": "AR_SA_CAMPAIGN_P002 is not set",
        "warehouse": "OK (no file at "
        + pipeline.warehouse_url.removeprefix("duckdb:///")
        + " yet; the first run makes it)",
    }
    assert status == 1
    table = "\n".join(lines)
    for company in pipeline.companies.values():  # names, never values
        assert company["live_key"] not in table
        assert company["sa_campaign_id"] not in table


def test_an_unreachable_source_and_a_refused_ar_key_are_each_practices_reason(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pipeline.root / "practices.toml"
    closed = f"postgresql://reader:s3cret-pw@127.0.0.1:{free_port()}/books"
    replace_line(path, f'source = "{pipeline.source_url}"', f'source = "{closed}"')
    missing = pipeline.root / "gone.db"
    replace_line(path, f'source = "{pipeline.source_url}"', f'source = "sqlite:///{missing}"')
    monkeypatch.setenv("AR_API_KEY_P002", "sk_live_not-a-key-of-any-company")

    status, lines, _ = check(pipeline, capsys)

    found = rows(lines)
    assert found["practice P001"].startswith("source: connection failed: ")
    assert found["practice P001"].endswith("failed: Connection refused")
    assert "s3cret-pw" not in found["practice P001"]
    assert found["practice P002"].startswith(
        f"source: no SQLite source database at {missing}; "
        "AR: the key in AR_API_KEY_P002 was refused (401 "
    )
    assert status == 1
