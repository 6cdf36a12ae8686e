"""The practices file: every field read into its setting, every mistake one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ar_pipelines.defs.practices import PracticeConfigError, load_practices
from ar_pipelines.normalize.settings import DEFAULT_PROCEDURE_LABELS
from ar_pipelines.sources.sql_reader import SqlLayout

DATABASE = """
[[practices]]
id = "P001"
ar_key_env = "AR_KEY"
source = "sqlite:///source.db"
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "practices.toml"
    path.write_text(text)
    return path


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(PracticeConfigError) as raised:
        load_practices(written(tmp_path, text))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_database_practice_gets_sikka_practice_1_and_the_default_mapping(
    tmp_path: Path,
) -> None:
    practice = load_practices(written(tmp_path, DATABASE)).get("P001")

    assert practice.sikka_practice_id == "1"
    assert practice.mapping.bill_to == "patient"
    assert practice.mapping.phone_region == "US"
    assert practice.mapping.procedure_labels == DEFAULT_PROCEDURE_LABELS
    assert practice.sql_layout() == SqlLayout()


def test_every_mapping_and_layout_field_reaches_the_practice(tmp_path: Path) -> None:
    text = DATABASE + "\n".join(
        [
            'sikka_practice_id = "3"',
            'office_id = "D42"',
            'office_column = "office"',
            'cursor_column = "_fivetran_synced"',
            'deleted_column = "_fivetran_deleted"',
            'key_column = "_fivetran_id"',
            'bill_to = "guarantor"',
            'phone_region = "ca"',
            'procedure_labels = ["Proc"]',
            'payment_labels = ["Pmt", "Payment"]',
            'adjustment_labels = ["Adj"]',
            'refund_payment_types = ["RF", "Refund check"]',
            'insurance_payment_types = ["INS"]',
            'credit_adjustment_types = ["WO"]',
            'debit_adjustment_types = ["FIN"]',
        ]
    )
    practice = load_practices(written(tmp_path, text)).get("P001")

    assert practice.sikka_practice_id == "3"
    assert practice.sql_layout() == SqlLayout(
        office_id="D42",
        office_column="office",
        cursor_column="_fivetran_synced",
        deleted_column="_fivetran_deleted",
        key_column="_fivetran_id",
    )
    mapping = practice.mapping
    assert (mapping.bill_to, mapping.phone_region) == ("guarantor", "CA")
    assert mapping.procedure_labels == ("Proc",)
    assert mapping.payment_labels == ("Pmt", "Payment")
    assert mapping.adjustment_labels == ("Adj",)
    assert mapping.refund_payment_types == ("RF", "Refund check")
    assert mapping.insurance_payment_types == ("INS",)
    assert mapping.credit_adjustment_types == ("WO",)
    assert mapping.debit_adjustment_types == ("FIN",)


def test_defaults_apply_to_every_practice_and_a_practice_overrides_them(tmp_path: Path) -> None:
    text = '[defaults]\nphone_region = "GB"\nquarantine_threshold = 0.1\n' + DATABASE
    text += '\n[[practices]]\nid = "P002"\nar_key_env = "K2"\nsource = "sqlite:///s.db"\n'
    text += 'phone_region = "IE"\n'
    config = load_practices(written(tmp_path, text))

    assert config.get("P001").phone_region == "GB"
    assert config.get("P002").phone_region == "IE"
    assert config.get("P002").quarantine_threshold == 0.1


def changed(*lines: str, without: str = "") -> str:
    """DATABASE's practice with each ``key = value`` line in place of that key's, and
    without the field ``without``."""
    keys = {line.split("=")[0].strip() for line in lines} | {without}
    kept = [
        line for line in DATABASE.strip().splitlines() if line.split("=")[0].strip() not in keys
    ]
    return "\n".join([*kept, *lines]) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            changed('phone_regoin = "US"'),
            "unknown field 'phone_regoin' (did you mean 'phone_region'?)",
        ),
        (changed('bill_too = "patient"'), "unknown field 'bill_too' (did you mean 'bill_to'?)"),
        (
            changed('sa_campain_env = "X"'),
            "unknown field 'sa_campain_env' (did you mean 'sa_campaign_env'?)",
        ),
        (
            changed('quarantine_threshold = "high"'),
            "quarantine_threshold: must be a number between 0 and 1",
        ),
        (
            changed("quarantine_threshold = 1.5"),
            "quarantine_threshold: must be a number between 0 and 1",
        ),
        (
            changed("source = 42"),
            "source: must be 'sikka' or a database URL (sqlite:///path, postgresql://..., mysql://...)",
        ),
        (
            changed("phone_region = 5"),
            "phone_region: must be a two-letter region code phone numbers know, such as US",
        ),
        (changed(without="ar_key_env"), "ar_key_env: is required"),
        (
            changed('ar_key_env = "AR KEY"'),
            "ar_key_env: must be the name of an environment variable",
        ),
        (changed(without="source"), "source: give source, source_env or source = 'sikka'"),
        (changed('source_env = "DB_URL"'), "source_env: give source or source_env, not both"),
        (changed('bill_to = "family"'), "bill_to: must be 'patient' or 'guarantor'"),
        (changed('cursor_column = "loaded at; drop"'), "cursor_column: must be a column name"),
        (changed("payment_labels = []"), "payment_labels: must name at least one label"),
        (
            changed("refund_payment_types = [1]"),
            "refund_payment_types: must be a list of non-empty strings",
        ),
        (changed("sikka_practice_id = 2"), 'sikka_practice_id: must be a string (quote it: "2")'),
        (
            changed('sikka_base_url = "api.sikkasoft.com/v4"'),
            "sikka_base_url: must be an http:// or https:// URL",
        ),
        (
            changed('sikka_base_url = "https://api.sikkasoft.com"'),
            "sikka_base_url: applies only with source = 'sikka'",
        ),
    ],
)
def test_a_mistake_in_a_practice_is_one_line_naming_the_file_practice_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    message = refusal(tmp_path, text)

    assert message == f"{tmp_path / 'practices.toml'}: practice P001: {expected}"


def test_a_source_url_that_no_reader_takes_is_refused_without_repeating_it(
    tmp_path: Path,
) -> None:
    text = changed('source = "duckdb:///books.duckdb"')
    assert refusal(tmp_path, text).endswith("mysql://...), not duckdb")

    message = refusal(tmp_path, changed('source = "postgresql://ar:s3cret@db:port/books"'))
    assert "source: must be 'sikka' or a database URL" in message
    assert "s3cret" not in message


def test_a_practice_without_a_usable_id_is_named_by_its_place_in_the_file(
    tmp_path: Path,
) -> None:
    second = '[[practices]]\nar_key_env = "K2"\nsource = "sqlite:///s.db"\n'
    assert refusal(tmp_path, DATABASE + second).endswith("practice #2: id: is required")

    bad = refusal(tmp_path, DATABASE + second + 'id = "P 2"\n')
    assert bad.endswith("practice #2: id: must be a plain identifier (letters, digits, _ and -)")


def test_ids_that_name_the_same_schema_are_refused(tmp_path: Path) -> None:
    text = DATABASE + '[[practices]]\nid = "p001"\nar_key_env = "K2"\nsource = "sqlite:///s.db"\n'
    message = refusal(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'practices.toml'}: practice p001: id: gives the same ")
    assert "schema names as practice P001 (p001)" in message


def test_a_practice_choosing_its_own_source_overrides_the_defaults_other_way(
    tmp_path: Path,
) -> None:
    text = '[defaults]\nsource_env = "SHARED_DB_URL"\nsa_campaign_id = "camp_1"\n' + DATABASE
    text += 'sa_campaign_env = "CAMPAIGN_P001"\n'
    text += '\n[[practices]]\nid = "P002"\nar_key_env = "K2"\n'
    config = load_practices(written(tmp_path, text))

    first, second = config.get("P001"), config.get("P002")
    assert (first.source, first.source_env) == ("sqlite:///source.db", None)
    assert first.variables() == ("AR_KEY", "CAMPAIGN_P001")
    assert (second.source, second.source_env, second.sa_campaign_id) == (
        None,
        "SHARED_DB_URL",
        "camp_1",
    )
    assert second.variables() == ("K2", "SHARED_DB_URL")


def test_a_mistake_in_the_defaults_is_named_there_not_in_each_practice(tmp_path: Path) -> None:
    path = tmp_path / "practices.toml"
    message = refusal(tmp_path, "[defaults]\nquarantine_treshold = 0.1\n" + DATABASE)
    assert message == (
        f"{path}: [defaults]: unknown field 'quarantine_treshold' "
        "(did you mean 'quarantine_threshold'?)"
    )

    message = refusal(tmp_path, '[defaults]\nphone_region = "Narnia"\n' + DATABASE)
    assert message.startswith(f"{path}: [defaults]: phone_region: must be a two-letter region")


def test_a_sikka_practice_needs_its_api_office_and_app_variables(tmp_path: Path) -> None:
    text = '[[practices]]\nid = "P9"\nar_key_env = "K"\nsource = "sikka"\n'
    assert "sikka_base_url: is required with source = 'sikka'" in refusal(tmp_path, text)

    text += 'sikka_base_url = "https://api.sikkasoft.com/v4"\noffice_id = "D1"\n'
    text += 'sikka_app_id_env = "SIKKA_APP_ID"\nsikka_app_key_env = "SIKKA_APP_KEY"\n'
    practice = load_practices(written(tmp_path, text)).get("P9")
    assert practice.sikka is not None
    assert practice.sikka.office_id == "D1"
    assert practice.sikka.secret_key_env is None  # taken from authorized_practices


def test_a_loader_column_on_a_sikka_practice_is_refused(tmp_path: Path) -> None:
    text = (
        '[[practices]]\nid = "P9"\nar_key_env = "K"\nsource = "sikka"\n'
        'sikka_base_url = "https://api.sikkasoft.com"\noffice_id = "D1"\n'
        'sikka_app_id_env = "A"\nsikka_app_key_env = "B"\ncursor_column = "_loaded_at"\n'
    )
    assert "cursor_column: applies to a SQL source only" in refusal(tmp_path, text)


def test_defaults_of_one_kind_of_source_skip_practices_of_the_other(tmp_path: Path) -> None:
    text = (
        '[defaults]\ncursor_column = "_loaded_at"\nsikka_app_id_env = "SIKKA_APP_ID"\n'
        'sikka_app_key_env = "SIKKA_APP_KEY"\n' + DATABASE + '[[practices]]\nid = "P9"\n'
        'ar_key_env = "K"\nsource = "sikka"\nsikka_base_url = "https://api.sikkasoft.com"\n'
        'office_id = "D1"\n'
    )
    config = load_practices(written(tmp_path, text))

    database, office = config.get("P001"), config.get("P9")
    assert (database.cursor_column, database.sikka) == ("_loaded_at", None)
    assert office.cursor_column is None
    assert office.sikka is not None
    assert office.variables() == ("K", "SIKKA_APP_ID", "SIKKA_APP_KEY")
