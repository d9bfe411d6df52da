"""`dryneedling serve` validates its settings before starting and reports a bad one in one line."""

from __future__ import annotations

from typer.testing import CliRunner

from dryneedling.cli import app


def test_it_refuses_a_port_out_of_range_with_exit_code_2():
    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert "port" in result.output


def test_it_refuses_a_bad_host_from_the_environment():
    result = CliRunner().invoke(app, ["serve"], env={"DRYNEEDLING_HOST": "not-an-address"})
    assert result.exit_code == 2
    assert "host" in result.output
