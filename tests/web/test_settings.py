"""Web settings come from the environment, are validated at start and fail fast naming the setting."""

from __future__ import annotations

import pytest

from dryneedling.errors import InputError
from dryneedling.web.settings import load_settings


def test_it_defaults_to_localhost_port_8000():
    settings = load_settings({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_it_reads_host_and_port_from_the_environment():
    settings = load_settings({"DRYNEEDLING_HOST": "0.0.0.0", "DRYNEEDLING_PORT": "8123"})
    assert (settings.host, settings.port) == ("0.0.0.0", 8123)


def test_it_lets_command_line_values_override_the_environment():
    settings = load_settings({"DRYNEEDLING_PORT": "8123"}, port=9000, host=None)
    assert settings.port == 9000 and settings.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"DRYNEEDLING_PORT": "eighty"}, "port"),
        ({"DRYNEEDLING_PORT": "70000"}, "port"),
        ({"DRYNEEDLING_HOST": "not a host"}, "host"),
    ],
)
def test_it_names_the_bad_setting(env, field):
    with pytest.raises(InputError) as caught:
        load_settings(env)
    assert caught.value.field == field


def test_it_prints_pdfs_on_a4_unless_told_letter():
    assert load_settings({}).paper == "a4"
    assert load_settings({"DRYNEEDLING_PAPER": "Letter"}).paper == "letter"


def test_it_names_a_bad_paper_setting():
    with pytest.raises(InputError) as caught:
        load_settings({"DRYNEEDLING_PAPER": "a3"})
    assert caught.value.field == "paper"
