"""Strict JSON and parsed-data checks shared by the web app, the CLI and the profile loader."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from dryneedling.errors import InputError, plain_value
from dryneedling.safe_input import MAX_DEPTH, check_data, json_too_deep, loads_json, read_text_file


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ('{"age": NaN}', "age", "NaN"),
        ('{"a": {"b": [1, Infinity]}}', "a.b[1]", "Infinity"),
        ("[-Infinity]", "[0]", "-Infinity"),
        ("1e400", "body", "1e400"),
        ('{"x": -1e999}', "x", "-1e999"),
    ],
)
def test_it_names_the_path_of_a_non_finite_number(text, field, value):
    with pytest.raises(InputError) as caught:
        loads_json(text)
    assert (caught.value.field, caught.value.value) == (field, value)
    assert json.dumps(caught.value.to_dict(), allow_nan=False)  # the error itself is valid JSON


def test_it_reports_the_first_problem_in_document_order():
    with pytest.raises(InputError) as caught:
        loads_json('{"a": 1, "b": NaN, "c": Infinity}')
    assert caught.value.field == "b"


def test_it_parses_ordinary_json_unchanged():
    text = '{"age": 40, "x": [1.5, -2e10, "[[[", {"y": null}], "z": true}'
    assert loads_json(text) == json.loads(text)
    assert loads_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # a UTF-8 byte-order mark is fine


def test_it_counts_depth_outside_strings_only():
    assert not json_too_deep('["' + "[" * 100 + '"]')
    assert not json_too_deep('["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]')
    assert not json_too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert json_too_deep("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert json_too_deep("{" + '"a":{' * 40 + "}" * 41)


def test_it_refuses_deep_nesting_before_parsing():
    with pytest.raises(InputError, match="nested too deeply") as caught:
        loads_json("[" * 100_000, field="profile")
    assert caught.value.field == "profile"


def test_bad_syntax_stays_a_json_decode_error_for_the_caller_to_word():
    with pytest.raises(json.JSONDecodeError):
        loads_json('{"a": ')


def test_it_checks_yaml_data_too_and_survives_shared_aliases():
    with pytest.raises(InputError) as caught:
        check_data(yaml.safe_load("a: 1\nb: [2, .nan]\n"), "profile")
    assert (caught.value.field, caught.value.value) == ("b[1]", "NaN")
    # a "billion laughs" of aliases is checked once per shared container, not expanded
    bomb = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    check_data(yaml.safe_load(bomb), "profile")
    check_data(yaml.safe_load("&a [*a]"), "profile")  # a list holding itself ends, it does not loop
    with pytest.raises(InputError, match="nested too deeply"):
        check_data([[[1]]], "profile", limit=2)


def test_plain_value_keeps_errors_serialisable():
    assert [plain_value(v) for v in (math.nan, math.inf, -math.inf)] == ["NaN", "Infinity", "-Infinity"]
    assert plain_value("\ud800x") == "\\ud800x"
    assert plain_value(1.5) == 1.5 and plain_value(None) is None and plain_value((1, 2)) == "(1, 2)"


def test_read_text_file_refuses_a_file_over_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a" * 101)
    with pytest.raises(InputError, match="larger than 100 bytes"):
        read_text_file(path, "profile", max_bytes=100)
    assert read_text_file(path, "profile", max_bytes=101) == "a" * 101


def test_plots_come_in_each_format_with_reproducible_bytes():
    from dryneedling.evidence.plots import PLOT_FORMATS, forest_plot, funnel_plot, plot_format
    from dryneedling.evidence.pooling import pool

    yi, vi = [0.1, 0.3, -0.2, 0.5], [0.04, 0.05, 0.03, 0.06]
    result = pool(yi, vi)
    magic = {"svg": "<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}
    for fmt in PLOT_FORMATS:
        forest = forest_plot(["a", "b", "c", "d"], yi, vi, result, fmt=fmt)
        assert forest.startswith(magic[fmt])
        assert forest == forest_plot(["a", "b", "c", "d"], yi, vi, result, fmt=fmt)
        assert funnel_plot(yi, vi, result, fmt=fmt).startswith(magic[fmt])
    assert plot_format("x/Forest.PDF") == "pdf"
    with pytest.raises(InputError) as caught:
        plot_format("forest.jpeg", "--forest")
    assert caught.value.field == "--forest" and caught.value.choices == [".pdf", ".png", ".svg"]


def test_a_validators_message_reaches_people_without_pydantics_prefix():
    from pydantic import BaseModel, ValidationError, field_validator

    from dryneedling.errors import validation_message

    class Form(BaseModel):
        age: int
        when: str

        @field_validator("when")
        @classmethod
        def _iso(cls, value: str) -> str:
            raise ValueError("must be a date YYYY-MM-DD")

    try:
        Form.model_validate({"when": "x"})
    except ValidationError as error:
        details = {detail["loc"][0]: detail for detail in error.errors()}
    assert validation_message(details["age"]) == "is required"
    assert details["when"]["msg"].startswith("Value error, ")
    assert validation_message(details["when"]) == "must be a date YYYY-MM-DD"
