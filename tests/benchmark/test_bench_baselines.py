"""benchmarks/bench_baselines.py: bad --methods/--sizes/--crop are one-line usage errors before
any timing; a size it has no input for is refused (it was silently timed on the 640x480 pair)."""
from __future__ import annotations

import pytest

from script_module import load


@pytest.mark.parametrize("argv, said", [
    (["--methods", "nope"], "unknown fusion method 'nope'"),
    (["--methods", "dwt:foo=1"], "unknown parameter foo"),
    (["--methods", "dwt:foo"], "NAME:key=value"),
    (["--sizes", "64x48"], "--sizes: '64x48'"),
    (["--compare", "--crop", "32"], "--crop '32'"),
])
def test_usage_errors(capsys, argv, said):
    with pytest.raises(SystemExit) as e:
        load("benchmarks/bench_baselines.py").main(argv + ["--repeat", "1"])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == "" and said in err.splitlines()[-1], err


def test_the_256_input_by_either_name(capsys):
    load("benchmarks/bench_baselines.py").main(["--methods", "average,dwt:levels=2", "--sizes", "256,256x256",
                                                "--repeat", "1"])
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["average", "dwt:levels=2"] * 2
    assert all(r[1] == "ct-mr-c01" for r in rows)
