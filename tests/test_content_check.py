"""`flask content check`: the real course passes; broken files are reported as file:line."""

import datetime as dt
import textwrap

import pytest

from learning import create_app
from learning.content.catalog import ModuleCompletion, is_kind, load_catalog
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
    teaches: [CYP33-2.3]
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
    # Every live question names the section that teaches it (the review links missed ones
    # there); the check above already proved each named section exists.
    quizzes = real.extensions["quizzes"]
    untaught = [f"{q.slug}: {question.id}" for q in quizzes.values()
                for question in q.graded_questions if not question.teaches]
    assert len(quizzes) > 1 and untaught == []


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
        "order: 1", "order: 2").replace("teaches: [CYP33-2.3]", "teaches: &c [CYP33-2.3]"))
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


# ---- teaches: which criteria each module teaches, and that every listed one is taught ----

UNITS_TWO = UNITS + (
    "      - id: CYP33-2.4\n"
    "        number: \"2.4\"\n"
    "        text: Describe the roles of the organisations\n")

PER_SECTION = GOOD.replace("teaches: [CYP33-2.3]", textwrap.dedent("""\
    teaches:
      CYP33-2.3: [Start here, Who is who]
      CYP33-2.4: [Who is who]""")) + "\n### Who is who\n\nThe police, health and the council.\n"


def test_teaches_per_section_loads_and_the_module_page_links_to_the_sections(content):
    write_course(content, units=UNITS_TWO, module=PER_SECTION)
    catalog = load_catalog(content)
    assert catalog.problems == ()
    module = catalog.modules[0]
    assert module.criteria == ("CYP33-2.3", "CYP33-2.4")
    assert [e.title for e in module.sections_teaching("CYP33-2.3")] == ["Start here", "Who is who"]
    assert [e.id for e in module.sections_teaching("CYP33-2.4")] == ["who-is-who"]


def test_a_criterion_a_unit_lists_that_no_module_teaches_is_an_error(content):
    write_course(content, units=UNITS_TWO)
    messages = _messages(load_catalog(content))
    assert messages == [f"{content.name}/units.yaml:11: criterion 'CYP33-2.4' is listed for unit "
                        "CYP33 but no module teaches it: add it to a module's 'teaches', or "
                        "remove it here and say in the unit's 'not_covered' that the course "
                        "does not teach it"]


def test_an_unknown_criterion_in_teaches_is_an_error_at_its_line(content):
    _write(content, "01-good.md", GOOD.replace("[CYP33-2.3]", "[CYP33-2.3, CYP33-9.9]"))
    messages = _messages(load_catalog(content))
    assert f"{content.name}/01-good.md:5: unknown criterion 'CYP33-9.9' in teaches (define it " \
           "in content/units.yaml)" in messages


def test_a_section_that_is_not_a_heading_of_the_module_is_an_error(content):
    _write(content, "01-good.md", PER_SECTION.replace("[Start here, Who is who]",
                                                      "[Start Here, Nowhere]"))
    write_course(content, units=UNITS_TWO, module=(content / "01-good.md").read_text())
    messages = " ".join(_messages(load_catalog(content)))
    assert ("01-good.md:5: teaches: 'CYP33-2.3' names the section 'Start Here', but the module "
            "has no ## or ### heading 'Start Here' (did you mean 'Start here'?)") in messages
    assert "names the section 'Nowhere'" in messages


@pytest.mark.parametrize("teaches, message", [
    ("teaches: []", "'teaches' must name at least one criterion id"),
    ("teaches: CYP33-2.3", "'teaches' must list the criterion ids the module teaches"),
    ("teaches: [CYP33-2.3, CYP33-2.3]", "criterion 'CYP33-2.3' is named twice in teaches"),
    ("teaches:\n  CYP33-2.3:", "teaches: give 'CYP33-2.3' the headings of the sections"),
    ("teaches:\n  CYP33-2.3: Start here", "teaches: 'CYP33-2.3' must map to a list of section"),
])
def test_teaches_of_the_wrong_shape_is_explained(content, teaches, message):
    _write(content, "01-good.md", GOOD.replace("teaches: [CYP33-2.3]", teaches))
    assert message in " ".join(_messages(load_catalog(content)))


def test_the_old_criteria_key_says_what_replaced_it(content):
    _write(content, "01-good.md", GOOD.replace("teaches:", "criteria:"))
    messages = _messages(load_catalog(content))
    assert messages == [f"{content.name}/01-good.md:5: 'criteria' is now 'teaches': list the "
                        "criterion ids the module teaches, or map each id to the headings of the "
                        "sections that teach it (docs/authoring.md)"]


def test_a_module_that_does_not_link_to_the_urgent_help_page_is_an_error(content):
    _write(content, "01-good.md", GOOD.replace(
        " Danger now? Read [what to do](/help/worried-about-a-child).", ""))
    messages = _messages(load_catalog(content))
    assert messages == [f"{content.name}/01-good.md:15: the module does not link to the page on "
                        "what to do if you are worried about a child now: add a link to "
                        "/help/worried-about-a-child where it teaches reporting a worry"]


def test_a_link_to_a_part_of_the_urgent_help_page_counts(content):
    _write(content, "01-good.md", GOOD.replace("(/help/worried-about-a-child)",
                                               "(/help/worried-about-a-child#helplines)"))
    assert load_catalog(content).problems == ()


def test_the_urgent_help_page_must_exist(content):
    (content / "pages" / "worried-about-a-child.md").unlink()
    messages = _messages(load_catalog(content))
    assert messages == [f"{content.name}/pages/worried-about-a-child.md:0: the page "
                        "'worried-about-a-child' (what to do if you are worried about a child "
                        "now) is missing or could not be loaded: every module links to it"]


def test_cli_fails_when_a_listed_criterion_is_not_taught(app, content, monkeypatch):
    write_course(content, units=UNITS_TWO)
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    (content / "quizzes").mkdir(exist_ok=True)
    monkeypatch.setitem(app.config, "QUIZ_DIR", content / "quizzes")
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "criterion 'CYP33-2.4' is listed for unit CYP33 but no module teaches it" \
        in result.output


def test_content_check_counts_descriptions_apart_and_checks_them(app, content, monkeypatch):
    _write(content, "01-good.md", GOOD)
    monkeypatch.setitem(app.config, "CONTENT_DIR", content)
    quizzes = content / "quizzes"
    quizzes.mkdir(exist_ok=True)
    monkeypatch.setitem(app.config, "QUIZ_DIR", quizzes)
    quiz = ("quiz:\n  slug: notes\n  title: Notes\n  modules: [good]\nquestions:\n"
            "  - {id: intro, type: description, text: Read this.}\n"
            "  - {id: q1, type: truefalse, text: A, answer: true}\n")
    (quizzes / "notes.yaml").write_text(quiz)
    result = app.test_cli_runner().invoke(args=["content", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "quizzes/notes.yaml: notes: 1 questions, 1 descriptions" in result.output
    (quizzes / "notes.yaml").write_text(quiz.replace("text: Read this.}",
                                                     "text: Read this., marks: 1}"))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert ("quizzes/notes.yaml:6: question 'intro' has marks, but a description is not "
            "answered and has no marks; remove 'marks'") in result.output


def test_a_unit_without_module_completion_keeps_read(content):
    unit = load_catalog(content).units[0]
    assert unit.module_completion is ModuleCompletion.READ


@pytest.mark.parametrize("value", ["read", "read-and-quiz-passed"])
def test_module_completion_loads_each_rule(content, value):
    _write(content, "units.yaml", UNITS.replace(
        "qualification: Diploma", f"qualification: Diploma\n    module_completion: {value}"))
    catalog = load_catalog(content)
    assert catalog.problems == ()
    assert catalog.units[0].module_completion is ModuleCompletion(value)


def test_an_unknown_module_completion_is_an_error_at_its_line(content):
    _write(content, "units.yaml", UNITS.replace(
        "qualification: Diploma", "qualification: Diploma\n    module_completion: quiz"))
    assert _messages(load_catalog(content)) == [
        f"{content.name}/units.yaml:7: module_completion of unit 'CYP33' is 'quiz': it must be "
        "'read' or 'read-and-quiz-passed' (when a module counts as complete; leave it out for "
        "'read')"]
