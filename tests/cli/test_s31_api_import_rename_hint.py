"""``--import FILE`` whose stem is no module name suggested a new name that was still none
(``2start.py`` → "rename the file, e.g. 2start.py"; a space or an accent: the same name)."""
from __future__ import annotations

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.plugins import import_user_module


@pytest.mark.parametrize("stem, suggested", [("my-method", "my_method"), ("2start", "m_2start"),
                                             ("my method", "my_method"), ("a+b", "a_b")])
def test_the_suggested_name_is_a_module_name(tmp_path, stem, suggested):
    f = tmp_path / f"{stem}.py"
    f.write_text("x = 1\n")
    with pytest.raises(ParameterError) as e:
        import_user_module(str(f))
    msg = str(e.value)
    assert f"rename the file, e.g. {suggested}.py)" in msg
    assert suggested.isidentifier()
