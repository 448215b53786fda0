"""Session 20 audit: a set the run needs that is missing or renamed stops ``mutualfuse benchmark``
before any work with one line naming the folder and the tables that need it, exit status 2 and
nothing written. It used to be a problem line printed after the whole run (exit 1) and a report
without those tables; a data root that holds none of the run's sets gave a report of no table."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error


def _pairs(folder, names=("01", "02"), roles=("ir", "vis"), seed=0):
    rng = np.random.default_rng(seed)
    for role in roles:
        (folder / role).mkdir(parents=True, exist_ok=True)
        for n in names:
            Image.fromarray(rng.integers(0, 256, (40, 48)).astype(np.uint8)).save(folder / role / f"{n}.png")


def _argv(tmp_path, *args):
    return ["benchmark", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--cache",
            str(tmp_path / "cache"), "--methods", "average", "--weights", "none", "--fast-metrics", "-q", *args]


def _nothing_written(tmp_path):
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "cache").exists()


def test_a_renamed_set_names_the_folder_and_the_one_of_another_case(tmp_path, capsys):
    _pairs(tmp_path / "data" / "ir-vis" / "tno")
    _pairs(tmp_path / "data" / "multi-focus" / "Lytro", names=("lytro-01",), roles=("a", "b"))
    err = assert_one_line_error(capsys, _argv(tmp_path, "--tables", "1,2"),
                                f"set multi-focus/lytro: folder {tmp_path / 'data' / 'multi-focus' / 'lytro'} not found",
                                f"there is {tmp_path / 'data' / 'multi-focus' / 'Lytro'}", "Table 2 needs it",
                                "--tables 1)")
    assert "Traceback" not in err
    _nothing_written(tmp_path)


def test_a_data_root_without_the_runs_sets_is_an_error_not_an_empty_report(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    assert_one_line_error(capsys, _argv(tmp_path, "--tables", "1,4"),
                          f"set ir-vis/tno: folder {tmp_path / 'data' / 'ir-vis' / 'tno'} not found",
                          "Table 1, Table 4 need it (give the data root that holds it, --data-root DIR or "
                          "MUTUALFUSE_DATA)")
    _nothing_written(tmp_path)


def test_leaving_out_every_table_is_suggested_only_where_sets_remain(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    _pairs(tmp_path / "data" / "ir-vis" / "tno40")
    assert_one_line_error(capsys, _argv(tmp_path, "--tables", "1", "--sets", "ir-vis/tno40"),
                          "Table 1 needs it", "or leave it out: --tables none)")
    _nothing_written(tmp_path)


def test_no_table_at_all_is_an_error_not_an_empty_report(tmp_path, capsys):
    """``--tables none`` without ``--sets`` wrote a report of no table and said 'wrote …', exit 0."""
    _pairs(tmp_path / "data" / "ir-vis" / "tno")
    assert_one_line_error(capsys, _argv(tmp_path, "--tables", "none"), "--tables none and no --sets: no table")
    _nothing_written(tmp_path)


@pytest.mark.parametrize("layout,words", [
    ("IR/VIS", "has no ir/vis or a/b folders (it holds IR, VIS)"),
    ("empty", "no image pairs in"),
])
def test_a_set_without_its_role_folders_or_pairs_is_an_error(tmp_path, capsys, layout, words):
    _pairs(tmp_path / "data" / "ir-vis" / "tno")
    d = tmp_path / "data" / "ir-vis" / "tno40"
    if layout == "IR/VIS":
        _pairs(d, roles=("IR", "VIS"))
    else:
        (d / "ir").mkdir(parents=True)
        (d / "vis").mkdir()
    assert_one_line_error(capsys, _argv(tmp_path, "--tables", "1", "--sets", "ir-vis/tno40"),
                          "set ir-vis/tno40: ", words, "--sets ir-vis/tno40 needs it", "--sets without ir-vis/tno40")
    _nothing_written(tmp_path)


def test_images_without_a_partner_stay_a_problem_of_the_set(tmp_path, capsys):
    """Not a missing set: the run goes on with the set's pairs (exit 1, the problem listed)."""
    from mutualfuse.cli import main

    _pairs(tmp_path / "data" / "ir-vis" / "tno", names=("01", "02"))
    _pairs(tmp_path / "data" / "ir-vis" / "tno", names=("03",), roles=("ir",))
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    rc = main(_argv(tmp_path, "--tables", "1", "--figures", str(tmp_path / "nofig.yaml")))
    err = capsys.readouterr().err
    assert rc == 1 and "set ir-vis/tno: 1 image(s) without a partner (03); left out" in err
    assert "2 of 2 pairs" in (tmp_path / "out" / "tables" / "table1.md").read_text()
