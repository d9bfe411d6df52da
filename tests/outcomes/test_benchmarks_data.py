"""The published figures and the measure entry rules are data, checked on load: a wrong count, an unknown
source or item scoring that does not add up to the range is reported naming the file, entry and field."""

from __future__ import annotations

import shutil

import pytest

from dryneedling.catalog import load_catalog
from dryneedling.errors import DataError
from dryneedling.knowledge.load import DATA_DIR


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_it_loads_both_studies_and_the_soreness_course_with_sources(catalog):
    benchmarks = catalog.benchmarks
    assert {r.id for r in benchmarks.rates("mild")} == {"brady_2014_mild", "boyce_2020_minor"}
    assert {r.id for r in benchmarks.rates("serious")} == {"brady_2014_significant", "boyce_2020_major"}
    assert all(source in catalog.kb.sources for source in benchmarks.cited())
    assert {f.hours for f in benchmarks.soreness_course} >= {24, 48, 72}


def test_it_refuses_a_published_percent_that_does_not_follow_from_its_counts(data_copy):
    path = data_copy / "records" / "benchmarks.yaml"
    path.write_text(path.read_text().replace("  events: 1463\n", "  events: 1063\n"))
    with pytest.raises(DataError) as refused:
        load_catalog(data_copy)
    assert any(p.entry == "brady_2014_mild" and p.field == "percent" for p in refused.value.problems)


def test_it_refuses_an_unknown_source(data_copy):
    path = data_copy / "records" / "benchmarks.yaml"
    path.write_text(path.read_text().replace("sources: [boyce_2020]", "sources: [boyce_2021]", 1))
    with pytest.raises(DataError, match="boyce_2021"):
        load_catalog(data_copy)


def test_it_refuses_item_scoring_that_does_not_add_up_to_the_range(data_copy):
    path = data_copy / "measures.yaml"
    path.write_text(path.read_text().replace("      count: 20\n", "      count: 19\n"))
    with pytest.raises(DataError) as refused:
        load_catalog(data_copy)
    assert any(p.entry == "lefs" and p.field == "entry.items" for p in refused.value.problems)


def test_it_refuses_an_mcid_tagged_with_an_unknown_condition(data_copy):
    path = data_copy / "measures.yaml"
    path.write_text(path.read_text().replace("conditions: [plantar_heel_pain]", "conditions: [heel_pain]", 1))
    with pytest.raises(DataError, match="heel_pain"):
        load_catalog(data_copy)
