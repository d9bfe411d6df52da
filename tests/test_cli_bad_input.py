"""Every CLI command that reads or writes a file checks it first: one line naming the argument, exit 2.

Also: plot files follow their suffix (.svg, .png, .pdf) and the profile refuses NaN/Infinity by field.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dryneedling.cli import app
from dryneedling.cli.files import check_output_file, read_input_text, write_output
from dryneedling.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "examples" / "shoulder.yaml"
BCG_CSV = ROOT / "examples" / "studies" / "bcg.csv"
MINIMAL = "condition: low_back_pain\npain_regions: [low_back]\nconsent: true\n"
JSON_REST = '"condition": "low_back_pain", "pain_regions": ["low_back"], "consent": true'
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
runner = CliRunner()


def _run(*args, stdin: str | bytes | None = None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)


def _one_line_error(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def binary_file(tmp_path) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe" + bytes(range(256)))
    return path


# assess PROFILE


def test_assess_names_a_binary_profile(binary_file):
    _one_line_error(_run("assess", binary_file), "PROFILE:", "is not a text file (UTF-8)")


def test_assess_names_a_directory_given_as_profile(tmp_path):
    _one_line_error(_run("assess", tmp_path), "PROFILE:", "is a directory")


def test_assess_names_a_missing_profile(tmp_path):
    _one_line_error(_run("assess", tmp_path / "nope.yaml"), "PROFILE:", "no such file")


def test_assess_names_binary_standard_input():
    _one_line_error(_run("assess", "-", stdin=b"\xff\xfe\x00binary"), "PROFILE:", "not text (UTF-8)")


# assess -o: checked before anything is rendered


def test_assess_checks_the_output_directory_before_rendering(monkeypatch, tmp_path):
    import dryneedling.assessment.report as report
    import dryneedling.render.pdf as pdf

    def must_not_run(*args, **kwargs):
        raise AssertionError("rendered although the output cannot be written")

    monkeypatch.setattr(report, "build_report", must_not_run)
    monkeypatch.setattr(pdf, "render_pdf", must_not_run)
    missing = tmp_path / "no" / "such" / "dir"
    result = _run("assess", PROFILE, "--format", "pdf", "-o", missing / "x.pdf")
    _one_line_error(result, "--output:", f"directory {missing} does not exist")


def test_assess_refuses_a_directory_as_output(tmp_path):
    _one_line_error(_run("assess", PROFILE, "-o", tmp_path), "--output:", "is a directory")


def test_assess_refuses_an_output_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    _one_line_error(
        _run("assess", PROFILE, "-o", tmp_path / "file" / "x.json"), "--output:", "is not a directory"
    )


def test_assess_checks_the_output_of_schema_too():
    _one_line_error(
        _run("assess", "--schema", "-o", "/no/such/dir/schema.json"), "--output:", "does not exist"
    )


def test_assess_refuses_to_overwrite_its_own_profile(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("age: 40\n" + MINIMAL)
    _one_line_error(_run("assess", profile, "-o", profile), "--output:", "is also PROFILE")
    assert profile.read_text() == "age: 40\n" + MINIMAL


@pytest.mark.skipif(AS_ROOT, reason="root may write anywhere")
def test_assess_refuses_an_output_directory_it_cannot_write(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        _one_line_error(_run("assess", PROFILE, "-o", locked / "x.json"), "--output:", "is not writable")
    finally:
        locked.chmod(stat.S_IRWXU)


def test_assess_still_writes_a_good_output(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    result = _run("assess", PROFILE, "--format", "json", "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("{") and not list(tmp_path.glob(".report.json.*"))


# assess: NaN and Infinity in the profile


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_assess_refuses_a_non_finite_age_in_json_on_stdin(number):
    result = _run("assess", "-", "--format", "json", stdin=f'{{"age": {number}, {JSON_REST}}}')
    _one_line_error(result, "age:", "finite")


def test_assess_names_a_nested_non_finite_number_in_a_json_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(f'{{"age": 40, {JSON_REST}, "practitioner": {{"training_hours": Infinity}}}}')
    _one_line_error(_run("assess", path, "--format", "json"), "practitioner.training_hours:", "finite")


@pytest.mark.parametrize(("field", "value"), [("age", ".nan"), ("duration_weeks", ".inf"), ("age", "-.inf")])
def test_assess_refuses_yaml_nan_and_inf(tmp_path, field, value):
    text = ("age: 40\n" if field != "age" else "") + f"{field}: {value}\n" + MINIMAL
    _one_line_error(_run("assess", "-", "--format", "json", stdin=text), f"{field}:", "finite")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    _one_line_error(_run("assess", path), f"{field}:", "finite")


def test_assess_refuses_a_profile_nested_ten_thousand_deep(tmp_path):
    deep = "[" * 10_000 + "]" * 10_000
    _one_line_error(_run("assess", "-", stdin=deep), "profile:", "nested too deeply")
    path = tmp_path / "deep.json"
    path.write_text(deep)
    _one_line_error(_run("assess", path), "profile:", "nested too deeply")
    _one_line_error(_run("assess", "-", stdin="- " * 200 + "x\n"), "profile:", "nested too deeply")


def test_assess_still_reads_a_yaml_flow_mapping_from_stdin():
    result = _run(
        "assess", "-", "--format", "json", stdin="{age: 40, " + MINIMAL.replace("\n", ", ")[:-2] + "}"
    )
    assert result.exit_code == 0, result.output


# evidence pool: FILE, --forest, --funnel


def test_pool_names_a_directory_given_as_file(tmp_path):
    _one_line_error(_run("evidence", "pool", tmp_path, "--measure", "RR"), "FILE:", "is a directory")


def test_pool_names_a_binary_file(binary_file):
    _one_line_error(_run("evidence", "pool", binary_file, "--measure", "RR"), "not a UTF-8 text")


@pytest.mark.parametrize("option", ["--forest", "--funnel"])
def test_pool_checks_plot_paths_before_the_analysis(monkeypatch, tmp_path, option):
    def must_not_run(*args, **kwargs):
        raise AssertionError("analysed although the plot cannot be written")

    import dryneedling.services.evidence as evidence_service

    monkeypatch.setattr(evidence_service, "pool_studies", must_not_run)
    missing = tmp_path / "nowhere"
    result = _run("evidence", "pool", BCG_CSV, "--measure", "RR", option, missing / "plot.svg")
    _one_line_error(result, f"{option}:", f"directory {missing} does not exist")


@pytest.mark.parametrize("name", ["forest.gif", "forest.jpg", "forest", "forest.svg.txt"])
def test_pool_refuses_a_plot_suffix_it_cannot_write(tmp_path, name):
    result = _run("evidence", "pool", BCG_CSV, "--measure", "RR", "--forest", tmp_path / name)
    _one_line_error(result, "--forest:", ".svg", ".png", ".pdf")
    assert not (tmp_path / name).exists()


def test_pool_refuses_the_same_path_for_both_plots(tmp_path):
    result = _run(
        "evidence",
        "pool",
        BCG_CSV,
        "--measure",
        "RR",
        "--forest",
        tmp_path / "p.svg",
        "--funnel",
        tmp_path / "p.svg",
    )
    _one_line_error(result, "--funnel:", "is also --forest")


@pytest.mark.parametrize(
    ("suffix", "magic"),
    [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-"), (".svg", b"<?xml"), (".PNG", b"\x89PNG\r\n\x1a\n")],
)
def test_pool_writes_each_plot_in_the_format_its_suffix_names(tmp_path, suffix, magic):
    forest, funnel = tmp_path / f"forest{suffix}", tmp_path / f"funnel{suffix}"
    result = _run("evidence", "pool", BCG_CSV, "--measure", "RR", "--forest", forest, "--funnel", funnel)
    assert result.exit_code == 0, result.output
    assert forest.read_bytes().startswith(magic) and funnel.read_bytes().startswith(magic)
    if suffix == ".svg":
        assert b"<svg" in forest.read_bytes()


# kb check --data-dir


def test_kb_check_names_a_missing_data_dir(tmp_path):
    _one_line_error(_run("kb", "check", "--data-dir", tmp_path / "nope"), "--data-dir:", "does not exist")


def test_kb_check_names_a_file_given_as_data_dir():
    _one_line_error(_run("kb", "check", "--data-dir", PROFILE), "--data-dir:", "is not a directory")


def test_kb_check_lists_a_binary_data_file_as_a_problem(tmp_path):
    import shutil

    from dryneedling.knowledge.load import DATA_DIR

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "muscles.yaml").write_bytes(b"\xff\xfe\x00\x01binary")
    result = _run("kb", "check", "--data-dir", data)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "muscles.yaml: -: not a text file (UTF-8)" in result.stderr


# the helpers themselves


def test_write_output_replaces_a_file_whole_and_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_output(target, "new", "--output")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    write_output(target, b"\x00\x01", "--output")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_write_output_writes_to_a_device_in_place():
    check_output_file("/dev/null", "--output")
    write_output("/dev/null", "discarded", "--output")
    assert Path("/dev/null").exists() and not Path("/dev/null").is_file()


def test_write_output_reports_a_failure_as_input_error(tmp_path):
    with pytest.raises(InputError) as caught:
        write_output(tmp_path / "missing" / "x.txt", "data", "--output")
    assert caught.value.field == "--output" and "cannot write" in caught.value.message


def test_read_input_text_returns_the_suffix(tmp_path):
    path = tmp_path / "P.JSON"
    path.write_text("{}")
    assert read_input_text(str(path), "PROFILE") == ("{}", ".json")
