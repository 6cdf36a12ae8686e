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


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'phone_regoin = "US"',
            "P001: unknown field 'phone_regoin' (did you mean 'phone_region'?)",
        ),
        ('bill_too = "patient"', "unknown field 'bill_too' (did you mean 'bill_to'?)"),
        ('sa_campain_env = "X"', "(did you mean 'sa_campaign_env'?)"),
        ('quarantine_threshold = "high"', "quarantine_threshold: must be a number between 0 and 1"),
        ("quarantine_threshold = 1.5", "quarantine_threshold: must be a number between 0 and 1"),
        ("phone_region = 5", "phone_region: must be a two-letter region code"),
        ('bill_to = "family"', "bill_to: must be 'patient' or 'guarantor'"),
        ('cursor_column = "loaded at; drop"', "cursor_column: must be a column name"),
        ("payment_labels = []", "payment_labels: must name at least one label"),
        ("refund_payment_types = [1]", "refund_payment_types: must be a list of non-empty strings"),
        ('sikka_base_url = "https://api.sikkasoft.com"', "applies only with source = 'sikka'"),
    ],
)
def test_a_mistake_in_a_practice_is_one_line_naming_the_file_practice_and_field(
    tmp_path: Path, line: str, expected: str
) -> None:
    message = refusal(tmp_path, DATABASE + line + "\n")

    assert message.startswith(f"{tmp_path / 'practices.toml'}: practice P001: ")
    assert expected in message


def test_a_source_that_is_not_text_is_refused_when_the_file_is_read(tmp_path: Path) -> None:
    text = '[[practices]]\nid = "P001"\nar_key_env = "K"\nsource = 42\n'
    assert "source: must be a non-empty string" in refusal(tmp_path, text)


def test_a_misspelled_default_is_refused_too(tmp_path: Path) -> None:
    message = refusal(tmp_path, "[defaults]\nquarantine_treshold = 0.1\n" + DATABASE)
    assert "[defaults]: unknown field 'quarantine_treshold'" in message


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
