"""Usage errors (exit 2) are one line, like every other error, and never echo a huge argument."""

from __future__ import annotations

import pytest

from corridors.cli import main

HUGE = str(9 * 10**308)


@pytest.mark.parametrize(
    "argv, says",
    [
        (["simulate", "-r", "99999999999"], "is more than 100,000"),
        (["simulate", "-r", HUGE], "(309 characters)"),
        (["simulate", "--seed", HUGE], "(309 characters)"),
        (["simulate", "--seed", "-1"], "must be at least 0"),
        (["simulate", "--workers", "0"], "must be at least 1"),
        (["simulate", "--workers", "100000"], "is more than 256"),
        (["route", "CN_CHENGDU", "PL_LODZ", "-k", "1000"], "is more than 50"),
        (["route", "CN_CHENGDU"], "the following arguments are required"),
        (["nope"], "invalid choice"),
    ],
)
def test_a_usage_error_is_one_line(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "--help" in err, err
    assert len(err) < 300 and HUGE not in err
