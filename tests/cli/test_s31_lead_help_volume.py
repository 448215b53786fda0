"""s31: ``mutualfuse --help`` names fuse-volume's DICOM series input, as its own --help and the
README do (the command list said "(NIfTI)" only, so a user with a DICOM series looked elsewhere)."""
from __future__ import annotations

from mutualfuse.cli import main


def test_the_command_list_names_dicom_series_for_fuse_volume(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    out = " ".join(capsys.readouterr().out.split())
    at = out.index("fuse-volume fuse two registered 3-D volumes")
    assert "DICOM series" in out[at:at + 120]
