"""A new user's first hour from a fresh clone, as README.md says (session 28):

* README's wheel line said ``python -m build``; in ``make demo``'s environment (the ``test``
  extra) there is no ``build`` module ("No module named build"), so the README says to install it
  first;
* docs/web.md's example of ``mutualfuse serve --host 0.0.0.0 --port 8080 --device cuda`` showed
  two of the three lines the command prints: the warning that the page is published without
  authentication (stderr) was missing. The shown lines are now the server's, word for word.

Cheap: reads the pages and pyproject.toml; the server runs with a stand-in page (no gradio).
"""
from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_says_to_install_build_where_make_demo_has_none():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-e '.[test]'" in make  # make demo's environment: the test extra
    if any(re.match(r"build\b", req) for req in extras["test"]):
        pytest.skip("the test extra installs build: make demo's environment runs python -m build as it is")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    at = readme.index("`python -m build`")
    assert "`pip install build`" in readme[max(0, at - 80):at], readme[max(0, at - 80):at + 40]


def _fake_page():
    spec = importlib.util.spec_from_file_location("s28_readme_fake_page", ROOT / "tests" / "web" / "fake_page.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_web_md_shows_every_line_serve_on_all_interfaces_prints(monkeypatch, tmp_path, capsys):
    from mutualfuse.web import server

    text = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    block = re.search(r"^mutualfuse serve --host 0\.0\.0\.0 --port 8080 --device cuda .*\n((?:#   .*\n)+)", text,
                      flags=re.M)
    assert block, "docs/web.md: the --host 0.0.0.0 example is gone"
    shown = [line[4:] for line in block.group(1).splitlines()]
    try:
        port = server.free_port("0.0.0.0")
    except OSError:
        pytest.skip("cannot listen on 0.0.0.0 here")
    fake = _fake_page()

    def stop(poll=0.2):
        raise KeyboardInterrupt

    fake.serve_offline(monkeypatch, tmp_path, fake.FakePage(), stop)
    assert server.serve(host="0.0.0.0", port=port, device="cpu", quiet=True) == 0
    captured = capsys.readouterr()
    printed = [line.replace(f":{port}", ":8080").replace(f"port {port}", "port 8080")
               for line in captured.out.splitlines() + captured.err.splitlines()]
    # the page's command runs on CUDA (--device cuda): its warning names the GPU where this one names the CPU
    printed = [line.replace("this machine's CPU", "this machine's GPU") for line in printed]
    assert shown == printed
