"""``dryneedling evidence pool``: a researcher's CSV in, pooled results, bias tests, subgroups and plots out."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dryneedling.cli import app

from .metafor_reference_b import BCG, BIAS, SUBGROUP

ROOT = Path(__file__).resolve().parents[2]
BCG_CSV = ROOT / "examples" / "studies" / "bcg.csv"
NORMAND_CSV = ROOT / "examples" / "studies" / "normand1999.csv"
HACKSHAW_CSV = ROOT / "examples" / "studies" / "hackshaw1998.csv"
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["evidence", "pool", *map(str, args)])


def _json(*args: str) -> dict:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def bcg() -> dict:
    return _json(BCG_CSV, "--measure", "RR", "--by", "alloc")


def test_it_pools_the_bcg_trials_as_metafor_does(bcg):
    assert bcg["k"] == 13 and bcg["measure"] == "RR" and bcg["method"] == "REML"
    pooled = bcg["pooled"]
    # Viechtbauer (2010), J Stat Softw 36(3): estimate -0.7145, tau^2 0.3132, I^2 92.22%
    assert round(pooled["estimate"], 4) == -0.7145
    assert round(pooled["tau2"], 4) == 0.3132
    assert round(pooled["i2"], 2) == 92.22
    assert bcg["back_transformed"]["estimate"] == pytest.approx(np.exp(pooled["estimate"]))
    assert pooled["pi_low"] < pooled["ci_low"] < pooled["estimate"] < pooled["ci_high"] < pooled["pi_high"]


def test_it_lists_every_study_with_its_interval_and_weight(bcg):
    studies = bcg["studies"]
    assert [row["study"] for row in studies][:2] == ["Aronson 1948", "Ferguson & Simes 1949"]
    np.testing.assert_allclose([row["yi"] for row in studies], BCG["yi"], rtol=1e-12)
    assert sum(row["weight"] for row in studies) == pytest.approx(100)
    first = studies[0]
    assert first["ci_low"] < first["yi"] < first["ci_high"]
    assert first["exp"]["estimate"] == pytest.approx(np.exp(first["yi"]))


def test_it_runs_the_small_study_tests_from_ten_studies(bcg):
    bias = bcg["small_study_effects"]
    assert bias["skipped"] is None
    assert bias["egger"]["stat"] == pytest.approx(BIAS["regtest(bcg_re)$zval"], rel=1e-6)
    assert bias["egger"]["limit_estimate"] == pytest.approx(BIAS["regtest(bcg_re)$est"], rel=1e-6)
    assert bias["egger_classic"]["stat"] == pytest.approx(BIAS['regtest(bcg_re, model="lm")$zval'], rel=1e-6)
    assert bias["rank"]["tau"] == pytest.approx(BIAS["ranktest(bcg_re)$tau"], rel=1e-6)


def test_it_says_why_the_small_study_tests_are_skipped_below_ten_studies():
    data = _json(NORMAND_CSV, "--measure", "SMD")
    bias = data["small_study_effects"]
    assert data["k"] == 9
    assert bias["egger"] is None and bias["rank"] is None
    assert "at least 10 studies" in bias["skipped"] and "k = 9" in bias["skipped"]


def test_it_gives_subgroups_with_the_tests_for_subgroup_differences(bcg):
    subgroups = bcg["subgroups"]
    assert [group["group"] for group in subgroups["groups"]] == ["alternate", "random", "systematic"]
    assert subgroups["groups"][1]["estimate"] == pytest.approx(SUBGROUP["sub_random$beta"], rel=1e-6)
    assert subgroups["test_separate_tau2"]["q"] == pytest.approx(
        SUBGROUP['rma(sub_est, sei=sub_se, method="FE")$QE'], rel=1e-6
    )
    common_call = 'rma(yi, vi, mods=~factor(alloc), data=bcg, method="REML", control=ctrl)$QM'
    assert subgroups["test_common_tau2"]["q"] == pytest.approx(SUBGROUP[common_call], rel=1e-6)


def test_it_reads_precomputed_effect_sizes_and_knapp_hartung():
    data = _json(HACKSHAW_CSV, "--test", "knha", "--method", "DL")
    assert data["measure"] == "GEN" and data["k"] == 37
    assert data["pooled"]["df"] == 36
    assert data["back_transformed"] is None


def test_it_prints_readable_tables_with_ratios_back_transformed():
    result = _run(BCG_CSV, "--measure", "RR")
    assert result.exit_code == 0, result.output
    assert "exponentiated" in result.output
    assert "0.489" in result.output  # exp(-0.7145)
    assert "Begg's rank test" in result.output


def test_it_writes_forest_and_funnel_plots(tmp_path):
    forest, funnel = tmp_path / "forest.svg", tmp_path / "funnel.svg"
    data = _json(BCG_CSV, "--measure", "OR", "--forest", forest, "--funnel", funnel)
    assert data["plots"] == {"forest": str(forest), "funnel": str(funnel)}
    texts = [
        "".join(node.itertext())
        for node in ET.parse(forest).getroot().iter("{http://www.w3.org/2000/svg}text")
    ]
    assert "Aronson 1948" in texts and "TPT Madras 1980" in texts
    assert ET.parse(funnel).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def _bad(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "studies.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        (None, ["--measure", "RR"], "no such file"),
        ("study,ai,bi,ci\nA,1,2,3\n", ["--measure", "RR"], "missing column di"),
        ("study,m1i,sd1i,n1i\nA,1,2,3\n", ["--measure", "SMD"], "missing columns m2i, sd2i, n2i"),
        (
            "study,ai,bi,ci,di\nA,1,2,3,4\nB,1,x,3,4\n",
            ["--measure", "OR"],
            "row 3 (study 'B') has 'x' in column 'bi'",
        ),
        (
            "study,ai,bi,ci,di\nA,1,2,3,4\nB,1,,3,4\n",
            ["--measure", "OR"],
            "row 3 (study 'B') has no value in column 'bi'",
        ),
        (
            "study,ai,bi,ci,di\nA,1,2,3,4\n",
            ["--measure", "HR"],
            "valid: MD, OR, PLO, PR, RD, ROM, RR, SMD, ZCOR",
        ),
        (
            "study,ai,bi,ci,di\nA,1,2,3,4\n",
            ["--measure", "OR", "--method", "BAYES"],
            "unknown method 'BAYES'",
        ),
        (
            "study,ai,bi,ci,di\nA,1,2,3,4\nB,2,2,3,4\n",
            ["--measure", "OR", "--by", "arm"],
            "unknown column 'arm'",
        ),
        ("study,ai,bi,ci,di\n", ["--measure", "OR"], "no studies"),
        ("study,ai,bi,ci,di\nA,1,2,3,4\n", [], "give --measure"),
    ],
)
def test_it_reports_bad_input_in_one_line_with_exit_code_2(tmp_path, content, args, expected):
    path = tmp_path / "missing.csv" if content is None else _bad(tmp_path, content)
    result = _run(path, *args)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert expected in message
    assert "\n" not in message
    assert "Traceback" not in result.output


def test_it_reports_bad_input_as_json_with_the_field(tmp_path):
    result = _run(_bad(tmp_path, "study,ai,bi,ci\nA,1,2,3\n"), "--measure", "RR", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["field"] == "di"
