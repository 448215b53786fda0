"""The check every bad-input test makes: ``mutualfuse`` with ``argv`` fails with exit status 2,
nothing on stdout and exactly one ``mutualfuse: error: ...`` line on stderr holding ``needles``."""
from __future__ import annotations


def assert_one_line_error(capsys, argv: list[str], *needles: str) -> str:
    """Run ``mutualfuse.cli.main(argv)`` and check the one-line error; returns the error line."""
    from mutualfuse.cli import main

    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    assert err.startswith("mutualfuse: error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, (n, err)
    return err
