"""What README.md and docs/*.md point at still exists, and the defaults they state are the code's
(docs audit, session 23):

* every repository path they name in a code span (``src/…``, ``docs/…``, ``tests/…``,
  ``scripts/…``, ``benchmarks/…``, ``configs/…``, ``runs-log/…``) exists — docs/benchmark.md
  named ``configs/ablations.yaml`` (it is ``configs/benchmark/ablations.yaml``);
* every section they refer to by name (``docs/inputs.md, "Stacks"``; ``section "Round 7"
  below``) is a heading or a bold paragraph lead of that page, and every relative Markdown link
  (``[torch](#torch)``) reaches a file and heading; so does every such reference of the code
  (docstrings, comments and messages of src/, scripts/, benchmarks/, configs/);
* the "paper reading (default)" column of docs/architecture.md's options table is
  ``ModelConfig``'s defaults;
* every CLI default a page states (``--crf``, default 17; ``--max-pixels`` (default
  200 000 000); ``--percentiles LO HI`` … (default ``0.1 99.9``)) is the parser's default, or,
  where the parser's is None, what the option's help says the default is.

Cheap: reads the Markdown, the git file list and the parser; runs nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^ *```(\w*)\n(.*?)^ *```", flags=re.S | re.M)
# paths the docs name on purpose although they are not in the checkout
ABSENT_ON_PURPOSE = {
    # docs/training.md: "the run stored the warm start as the path … (removed since)"
    "runs-log/default-centred/final.safetensors",
}


def _text(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def _prose(page: str) -> str:
    """The page without fenced blocks, whitespace collapsed."""
    return " ".join(FENCE.sub("", _text(page)).split())


def _plain(s: str) -> str:
    return " ".join(re.sub(r"[`*]", "", s).split())


def _anchors(page: str) -> list[str]:
    """Headings and bold paragraph leads (``**Round 7, …**``): what a "Section" names."""
    text = FENCE.sub("", _text(page))
    heads = re.findall(r"^#{1,6} +(.*)$", text, flags=re.M)
    return [_plain(h) for h in heads + re.findall(r"\*\*([^*]+)\*\*", text)]


def _resolves(section: str, page: str) -> bool:
    section = _plain(section).rstrip(" …").rstrip(".")
    return any(a.startswith(section) or section in a for a in _anchors(page))


def _expand(path: str) -> list[str]:
    """``table{4,5}.csv`` -> table4.csv, table5.csv; ``val_<run>.txt`` -> the pattern val_*.txt."""
    m = re.search(r"\{([^{}]*)\}", path)
    if m:
        return [x for alt in m.group(1).split(",") for x in _expand(path[:m.start()] + alt + path[m.end():])]
    return [re.sub(r"<[^<>]*>", "*", path)]


def test_repository_paths_the_docs_name_exist():
    try:  # the tracked files; without git (an unpacked sdist) the file system alone
        tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        tracked = []
    known = set(tracked) | {str(parent) for t in tracked for parent in Path(t).parents}
    roots = r"(?:src|docs|tests|scripts|benchmarks|configs|runs-log)"
    missing, checked = [], 0
    for page in PAGES:
        for span in re.findall(r"`([^`\n]+)`", _text(page)):
            for path in re.findall(rf"(?<![\w./~-])({roots}/[\w./*{{}},<>-]*[\w/*}}>])", span):
                if re.search(r"[A-Z]{3,}|\.\.\.", path) or path in ABSENT_ON_PURPOSE:
                    continue  # NAME.yaml, OUT/…: a placeholder
                for pattern in _expand(path.rstrip("/")):
                    checked += 1
                    if not ((ROOT / pattern).exists() or fnmatch.filter(known, pattern)
                            or ("*" in pattern and next(ROOT.glob(pattern), None))):
                        missing.append(f"{page}: `{span}` names {pattern}, which is not in the checkout")
    assert checked >= 200
    assert not missing, "\n".join(missing)


def _references() -> list[tuple[str, str, str]]:
    """(page, target page, section) of every reference by section name."""
    refs = []
    for page in PAGES:
        prose = _prose(page)
        # another page's: docs/inputs.md, "Stacks" (and "…"); `docs/architecture.md`, "…"
        for m in re.finditer(r"`?((?:docs/)?[\w-]+\.md)`?,? ((?:\"[^\"]+\"(?:,? and |,? or |, )?)+)", prose):
            target = m.group(1) if m.group(1).startswith("docs/") else f"docs/{m.group(1)}"
            if m.group(1) == "README.md":
                target = "README.md"
            for section in re.findall(r'"([^"]+)"', m.group(2)):
                refs.append((page, target, section))
        # the same page's: section "Round 7" below, (see "Stacks"), "Cache, resume" above
        for m in re.finditer(r'(?:[Ss]ections? |[Ss]ee )"([^"]{3,80})"|"([^"]{3,80})" (?:below|above)', prose):
            refs.append((page, page, m.group(1) or m.group(2)))
    return refs


def test_sections_the_docs_refer_to_exist():
    refs = _references()
    assert len(refs) >= 40
    wrong = []
    for page, target, section in refs:
        if not (ROOT / target).exists():
            wrong.append(f"{page}: refers to {target}, which does not exist")
        elif not _resolves(section, target) and not (target == page and any(
                _resolves(section, other) for other in PAGES)):
            wrong.append(f'{page}: "{section}" is no heading or bold lead of {target}')
    assert not wrong, "\n".join(wrong)


def test_sections_the_code_refers_to_exist():
    """Docstrings, comments, messages and configs point into the docs the same way
    (``docs/inputs.md, "Token budget"``): a heading renamed in the docs must not strand them."""
    files = [*ROOT.glob("src/**/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py"),
             *ROOT.glob("configs/**/*.yaml")]
    wrong, checked = [], 0
    for file in files:
        text = " ".join(re.sub(r"\n\s*#\s*", " ", file.read_text(encoding="utf-8", errors="replace")).split())
        for m in re.finditer(r"`?((?:docs/)?[\w-]+\.md)`?,? ((?:\"[^\"]+\"(?:,? and |,? or |, )?)+)", text):
            target = m.group(1) if m.group(1).startswith("docs/") or m.group(1) == "README.md" else f"docs/{m.group(1)}"
            for section in re.findall(r'"([^"]+)"', m.group(2)):
                checked += 1
                if not (ROOT / target).exists() or not _resolves(section, target):
                    wrong.append(f'{file.relative_to(ROOT)}: {target}, "{section}": no such heading or bold lead')
    assert checked >= 30
    assert not wrong, "\n".join(wrong)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", _plain(heading).lower()).replace(" ", "-")


def test_relative_links_resolve():
    wrong = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", _text(page))):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (ROOT / page).parent / path if path else ROOT / page
            if not file.exists():
                wrong.append(f"{page}: link {target}: no {path}")
            elif anchor and file.suffix == ".md":
                heads = re.findall(r"^#{1,6} +(.*)$", FENCE.sub("", file.read_text(encoding="utf-8")),
                                   flags=re.M)
                if anchor not in {_slug(h) for h in heads}:
                    wrong.append(f"{page}: link {target}: no heading with that anchor")
    assert not wrong, "\n".join(wrong)


def test_architecture_option_table_defaults_are_model_config_defaults():
    from mutualfuse.model.config import ModelConfig

    defaults = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
    text = _text("docs/architecture.md")
    table = text[text.index("| field | paper reading (default) |"):]
    table = table[:table.index("\n\n")]
    checked = 0
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`(\w+)`", cells[0])
        if not m:
            continue  # "`output` = `pyramid` (candidate …)": a value, not a default
        field = m.group(1)
        assert field in defaults, f"docs/architecture.md: {field} is no ModelConfig field"
        shown = cells[1].split(":")[0].strip().strip("`")
        want = defaults[field]
        if isinstance(want, float) and want == int(want):
            want = int(want)
        assert shown == str(want), f"docs/architecture.md: {field} default {shown}, ModelConfig {want!r}"
        checked += 1
    assert checked >= 15


def _parser_defaults() -> dict[str, list[tuple[str, object, str]]]:
    """option -> [(command, parser default, expanded help)] over every subcommand."""
    from mutualfuse.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: dict[str, list] = {}
    for name, p in sub.choices.items():
        formatter = p._get_formatter()
        for a in p._actions:
            help_text = formatter._expand_help(a) if a.help else ""
            for opt in a.option_strings:
                out.setdefault(opt, []).append((name, a.default, " ".join(help_text.split())))
    return out


def _value(shown: str):
    shown = shown.strip("`")
    if re.fullmatch(r"2\^(\d+)", shown):
        return 2 ** int(shown[2:])
    if re.fullmatch(r"\d{1,3}(?: \d{3})+|\d+", shown):
        return int(shown.replace(" ", ""))
    if re.fullmatch(r"[\d.]+(?: [\d.]+)+", shown):
        return tuple(float(x) for x in shown.split())
    if re.fullmatch(r"[\d.]+", shown):
        return float(shown)
    return shown


def _stated_defaults() -> list[tuple[str, str, str]]:
    """(page, option, stated default) for "`--opt ARG`, default X", "`--opt` (default X)",
    "`--opt ARG` changes … (default `X`)" and "`--opt X` (default)"."""
    found = []
    value = r"(`[^`]+`|2\^\d+|\d{1,3}(?: \d{3})+|[\w.]+)"
    for page in PAGES:
        prose = _prose(page)
        for m in re.finditer(rf"`(--[a-z][\w-]*)[^`]*`\)?(?:,| \(| [a-z ]{{0,30}}\()\s*default:? {value}", prose):
            found.append((page, m.group(1), m.group(2)))
        # "`--order tree` (default)", "`--order tree`, the default"
        for m in re.finditer(r"`(--[a-z][\w-]*) ([\w.-]+)`(?: \(default\)|, the default)", prose):
            found.append((page, m.group(1), m.group(2)))
    return found


def test_stated_cli_defaults_are_the_parsers():
    stated = _stated_defaults()
    assert len(stated) >= 10
    options = _parser_defaults()
    wrong = []
    for page, opt, shown in stated:
        if shown in ("the", "that"):  # "default: the weights' own", "default that file": prose
            continue
        assert opt in options, f"{page}: {opt} is no option of any command"
        want = _value(shown)
        ok = False
        for _cmd, default, help_text in options[opt]:
            if isinstance(default, (list, tuple)) and isinstance(want, tuple):
                ok |= tuple(map(float, default)) == want
            elif default is None:  # resolved later: the help says what it is
                text = shown.strip("`") if isinstance(want, tuple) else str(want)
                ok |= bool(re.search(rf"default:? {re.escape(text)}\b", help_text))
            else:
                ok |= default == want
        if not ok:
            wrong.append(f"{page}: {opt} default {shown}; the parser: "
                         + ", ".join(f"{c} {d!r}" for c, d, _ in options[opt]))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("opt, shown, want", [("--crf", "17", 17), ("--max-pixels", "200 000 000", 200000000),
                                              ("--percentiles", "`0.1 99.9`", (0.1, 99.9)),
                                              ("--order", "tree", "tree")])
def test_the_default_check_reads_these(opt, shown, want):
    """The stated-defaults scan finds the pages' well-known statements, read as numbers."""
    assert (opt, shown) in {(o, s) for _, o, s in _stated_defaults()}
    assert _value(shown) == want


def test_weights_own_defaults_are_model_config_defaults():
    """"`--detail-gain G`, default: the weights' own, 1.0": the parser leaves it to the weights
    (None), and the number is ``ModelConfig``'s default, what weights that store none get."""
    from mutualfuse.model.config import ModelConfig

    defaults = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
    options = _parser_defaults()
    found = [(page, m.group(1), m.group(2)) for page in PAGES for m in re.finditer(
        r"`(--[a-z][\w-]*)[^`]*`, default: the weights' own, ([\d.]+)", _prose(page))]
    assert len(found) >= 3
    for page, opt, shown in found:
        assert all(d is None for _, d, _ in options[opt]), (page, opt, options[opt])
        field = opt[2:].replace("-", "_")
        assert float(shown) == defaults[field], f"{page}: {opt} the weights' own {shown}, ModelConfig {defaults[field]}"


def test_stated_cli_defaults_are_the_api_defaults_too():
    """A default the docs state for a fuse option that ``mutualfuse.Fuser`` also takes
    (``--percentiles``, ``--window-pixels`` = ``max_window_pixels``, ``--normalize``) is
    ``Fuser``'s default as well: the docs say the API fuses as the CLI does."""
    import inspect

    from mutualfuse import Fuser

    params = inspect.signature(Fuser.__init__).parameters
    alias = {"window-pixels": "max_window_pixels"}
    resolved = Fuser("average")  # None defaults (normalize, percentiles: the weights' training policy,
    checked = 0                  # else the stated one) as a fuser without such weights resolves them
    for page, opt, shown in _stated_defaults():
        name = alias.get(opt[2:], opt[2:].replace("-", "_"))
        if name not in params or shown in ("the", "that"):
            continue
        default = params[name].default
        if default is None:
            default = getattr(resolved, name, None)
            if default is None:
                continue
        want = _value(shown)
        if isinstance(default, tuple):
            default = tuple(map(float, default))
        assert default == want, f"{page}: {opt} default {shown}; Fuser({name}=…) default {default!r}"
        checked += 1
    assert checked >= 3
