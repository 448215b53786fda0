"""Errors about weights name what the user gave."""
import pytest

from mutualfuse.errors import ParameterError


def test_a_shipped_file_given_by_its_path_is_named_by_that_path_and_its_entry(tmp_path):
    import shutil
    from pathlib import Path

    import mutualfuse.weights as mw
    from mutualfuse.weights import SHIPPED, task_settings

    copy = tmp_path / "my.safetensors"
    shutil.copyfile(Path(mw.__file__).parent / SHIPPED["paper-3000"].file, copy)
    with pytest.raises(ParameterError) as e:
        task_settings(str(copy), "ir-vis")
    assert f"weights '{copy}' (the shipped 'paper-3000', by its sha256) record no per-task settings" in str(e.value)
    with pytest.raises(ParameterError, match="weights 'paper-3000' record no per-task settings"):
        task_settings("paper-3000", "ir-vis")
