"""`flask content check`: the real course passes; broken files are reported as file:line."""

import datetime as dt
import textwrap

import pytest

from learning import create_app
from learning.content.catalog import is_kind, load_catalog
from learning.core.config import BASE_DIR, settings_for_tests

UNITS = textwrap.dedent("""\
    units:
      - id: CYP33
        code: CYP Core 3.3
        title: Safeguarding
        reference: Y/601/1695
        qualification: Diploma
        criteria:
          - id: CYP33-2.3
            number: "2.3"
            text: Explain what is meant by partnership working
    """)

GOOD = textwrap.dedent("""\
    ---
    slug: good
    title: A good module
    order: 1
    criteria: [CYP33-2.3]
    minutes: 10
    outcomes:
      - Explain one thing.
    last_reviewed: 2026-11-01
    references:
      - title: Working Together to Safeguard Children
        publisher: Department for Education
        year: 2023
    ---
    ## Start here

    Short plain sentences help. Danger now? Read [what to do](/help/worried-about-a-child).
    """)

URGENT_PAGE = textwrap.dedent("""\
    ---
    slug: worried-about-a-child
    title: Worried about a child now
    last_reviewed: 2026-12-01
    references: []
    ---
    ## Danger now

    Call 999.
    """)


def _write(tmp_path, name, text):
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")


def write_course(folder, units=UNITS, module=GOOD):
    """A one-module course that passes every check: units, the module, the urgent help page."""
    _write(folder, "units.yaml", units)
    _write(folder, "01-good.md", module)
    _write(folder, "pages/worried-about-a-child.md", URGENT_PAGE)


@pytest.fixture
def content(tmp_path):
    write_course(tmp_path)
    return tmp_path


def _messages(catalog):
    return [str(p) for p in catalog.problems]


def test_real_course_passes_strict_check(database_url):
    """The one test that reads the real content/ and quizzes/: the course must pass --strict."""
    real = create_app(settings_for_tests(database_url, CONTENT_DIR=BASE_DIR / "content",
                                         QUIZ_DIR=BASE_DIR / "quizzes"))
    result = real.test_cli_runner().invoke(args=["content", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert ": 0 errors, 0 warnings" in result.output
    assert "Flesch reading ease" in result.output


def test_fixture_course_passes_strict_check(runner):
    """The tests' own course in tests/data/ is whole: a broken file there would drop a module."""
    result = runner.invoke(args=["content", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "3 modules, 6 glossary terms, 2 written tasks, 3 quizzes: 0 errors, 0 warnings" \
        in result.output


def test_good_file_loads(content):
    catalog = load_catalog(content)
    assert catalog.problems == ()
    assert catalog.modules[0].slug == "good"
    assert catalog.modules[0].readability.words > 5


def test_missing_key_and_unknown_key(content):
    _write(content, "02-bad.md", GOOD.replace("slug: good", "slug: bad").replace(
        "order: 1", "colour: red").replace("minutes: 10\n", ""))
    messages = _messages(load_catalog(content))
    assert "02-bad.md:4: unknown key 'colour'" in " ".join(messages)
    assert any(m.startswith(f"{content.name}/02-bad.md:2: missing required key 'order'")
               for m in messages)


def test_bad_yaml_reports_its_line(content):
    _write(content, "02-bad.md", GOOD.replace("minutes: 10", "minutes: [10"))
    messages = _messages(load_catalog(content))
    assert len(messages) == 1
    assert "02-bad.md:7: invalid YAML" in messages[0] or "02-bad.md:8: invalid YAML" in messages[0]


def test_an_alias_in_front_matter_or_units_is_refused_at_its_line(content):
    _write(content, "02-alias.md", GOOD.replace("slug: good", "slug: alias").replace(
        "order: 1", "order: 2").replace("criteria: [CYP33-2.3]", "criteria: &c [CYP33-2.3]"))
    _write(content, "units.yaml", UNITS + "other: *u\n")
    messages = _messages(load_catalog(content))
    assert any("02-alias.md:5: invalid YAML: the anchor &c is not allowed" in m
               for m in messages), messages
    assert any("units.yaml:11: invalid YAML: the alias *u is not allowed" in m
               for m in messages), messages


def test_wrong_types_and_unknown_criterion(content):
    _write(content, "02-bad.md", GOOD.replace("slug: good", "slug: Bad Slug").replace(
        "order: 1", "order: 2").replace("[CYP33-2.3]", "[CYP33-9.9]").replace(
        "2026-11-01", "last week"))
    messages = " ".join(_messages(load_catalog(content)))
    assert "02-bad.md:9: 'last_reviewed' must be a date like 2026-11-23" in messages



@pytest.mark.parametrize("value, kind, expected", [
    (10, int, True), (True, int, False), ("10", int, False),
    (dt.date(2026, 11, 1), dt.date, True), (dt.datetime(2026, 11, 1, 9), dt.date, False),
    ("Title", str, True), (["a"], list, True), ("a", list, False),
])
def test_front_matter_kinds_are_what_an_author_means(value, kind, expected):
    assert is_kind(value, kind) is expected


def test_a_key_given_twice_in_front_matter_is_reported(content):
    _write(content, "02-bad.md", GOOD.replace("minutes: 10", "minutes: 10\nminutes: 20"))
    assert any("02-bad.md:7: key 'minutes' appears twice here (first at line 6)" in m
               for m in _messages(load_catalog(content)))

def test_body_problems_have_body_line_numbers(content):
    body = GOOD + textwrap.dedent("""\

        # A second title

        #### Skipped levels

        <div onclick="x">raw</div>

        The LSCB met every month.

        !!! history "History"
            The Local Safeguarding Children Board was replaced in 2019.

        !!! warning "Careful"
            Unknown call-out type.
        """)
    _write(content, "01-good.md", body)
    messages = _messages(load_catalog(content))
    joined = "\n".join(messages)
    assert "01-good.md:19: level-1 heading in the body" in joined
    assert "01-good.md:21: heading jumps from h1 to h4" in joined
    assert "01-good.md:23: raw HTML is not allowed" in joined
    assert "01-good.md:25: outdated term 'LSCB' outside a '!!! history' block" in joined
    assert "01-good.md:30: unknown call-out '!!! warning'" in joined
    # Inside the history block the old name is allowed.
    assert ":28:" not in joined


def test_duplicate_slug_and_order(content):
    _write(content, "02-copy.md", GOOD)
    messages = " ".join(_messages(load_catalog(content)))
    assert "slug 'good' is also used by" in messages


def test_not_utf8_and_no_front_matter(content):
    (content / "02-latin1.md").write_bytes("---\ntitle: caf\xe9\n".encode("latin-1"))
    _write(content, "03-plain.md", "## Just text\n")
    messages = " ".join(_messages(load_catalog(content)))
    assert "02-latin1.md:0: not UTF-8 text" in messages
    assert "03-plain.md:1: missing YAML front matter" in messages


def test_cli_exits_non_zero_with_file_and_line(app, content, monkeypatch):
    _write(content, "02-bad.md", GOOD.replace("slug: good", "slug: other").replace(
        "order: 1", "order: 2") + "\nThe CCG pays.\n")
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    (content / "quizzes").mkdir(exist_ok=True)
    monkeypatch.setitem(app.config, "QUIZ_DIR", content / "quizzes")
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "02-bad.md:19: outdated term 'CCG'" in result.output
    assert ": 1 errors" in result.output


def test_warnings_fail_only_in_strict_mode(app, content, monkeypatch):
    _write(content, "01-good.md", GOOD + "\nThe youth offending team helped.\n")
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    (content / "quizzes").mkdir(exist_ok=True)
    monkeypatch.setitem(app.config, "QUIZ_DIR", content / "quizzes")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "check"]).exit_code == 0
    strict = runner.invoke(args=["content", "check", "--strict"])
    assert strict.exit_code == 1
    assert "warning: outdated term 'youth offending team'" in strict.output
