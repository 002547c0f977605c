"""The glossary (linked from first use in modules) and the written task files."""

import textwrap

import pytest
import yaml

from learning.content.catalog import load_catalog
from learning.content.tasks import field_problems
from tests.test_content_check import GOOD, write_course

GLOSSARY = textwrap.dedent("""\
    terms:
      - term: DSL
        stands_for: designated safeguarding lead
        meaning: The person in a setting who leads on safeguarding.
        see_also: [LADO]
      - term: LADO
        stands_for: local authority designated officer
        meaning: Handles allegations against people who work with children.
      - term: LSCB
        stands_for: Local Safeguarding Children Board
        historical: true
        meaning: Replaced by multi-agency safeguarding arrangements. The LSCB met often.
    """)

TASK = textwrap.dedent("""\
    slug: task-one
    title: Explain partnership working
    criteria: [CYP33-2.3]
    modules: [good]
    command_verb: explain
    verb_guidance: Say what it is and why it matters.
    question: |
      Explain what partnership working means.
    guidance: |
      Use an example from your setting.
    word_count: {min: 300, max: 600}
    resubmissions_allowed: 2
    marking_guide:
      - criterion: CYP33-2.3
        met_when:
          - Says that agencies share information and act together.
        refer_when:
          - Names CCGs as a current partner.
    """)


@pytest.fixture
def content(tmp_path):
    write_course(tmp_path, module=GOOD + "\nAsk the DSL. The DSL will call the LADO.\n")
    (tmp_path / "glossary.yaml").write_text(GLOSSARY)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "one.yaml").write_text(TASK)
    return tmp_path


def test_first_use_of_each_term_links_to_the_glossary(content):
    catalog = load_catalog(content)
    assert catalog.problems == ()
    html = str(catalog.modules[0].rendered.html)
    assert html.count('href="/glossary#term-dsl"') == 1
    assert 'href="/glossary#term-lado"' in html
    assert 'title="designated safeguarding lead"' in html


def test_glossary_problems_are_reported_with_lines(content):
    (content / "glossary.yaml").write_text(GLOSSARY.replace("see_also: [LADO]",
                                                            "see_also: [MASH]").replace(
        "    historical: true\n", "") + "  - term: DSL\n    meaning: again\n")
    messages = [str(p) for p in load_catalog(content).problems]
    joined = "\n".join(messages)
    assert "glossary.yaml:5: term 'DSL': see_also names unknown term 'MASH'" in joined
    assert "glossary.yaml:11: term 'LSCB': outdated term 'LSCB' in a current entry" in joined
    assert "glossary.yaml:12: term 'DSL' is already defined at line 2" in joined


def test_task_loads(content):
    task = load_catalog(content).tasks[0]
    assert task.slug == "task-one" and task.command_verb == "explain"
    assert (task.min_words, task.max_words) == (300, 600)
    assert task.marking_guide[0].refer_when == ("Names CCGs as a current partner.",)


@pytest.mark.parametrize("change, message", [
    (("command_verb: explain", "command_verb: discuss"),
     "one.yaml:5: command_verb must be one of explain, analyse, describe"),
    (("modules: [good]", "modules: [nope]"), "one.yaml:4: unknown module 'nope'"),
    (("criteria: [CYP33-2.3]", "criteria: [XX-1]"), "one.yaml:3: unknown criterion 'XX-1'"),
    (("{min: 300, max: 600}", "{min: 600, max: 300}"), "one.yaml:11: word_count must be"),
    (("  - criterion: CYP33-2.3", "  - criterion: CYP33-2.4"),
     "one.yaml:14: marking_guide criterion 'CYP33-2.4' is not in the task's criteria"),
    (("Use an example from your setting.", "Ask the LSCB."),
     "one.yaml:10: outdated term 'LSCB' in guidance"),
    (("resubmissions_allowed: 2\n", "resubmissions_allowed: 2\ncolour: blue\n"),
     "one.yaml:13: unknown key 'colour'"),
])
def test_task_problems(content, change, message):
    (content / "tasks" / "one.yaml").write_text(TASK.replace(*change))
    messages = " | ".join(str(p) for p in load_catalog(content).problems)
    assert message in messages



def test_task_field_rules_need_no_file():
    data = yaml.safe_load(TASK)
    assert list(field_problems(data, {"CYP33-2.3"}, {"good"})) == []
    data.update(slug="Task One", modules=["good", "gone"], word_count={"min": 300, "max": 300},
                resubmissions_allowed=True, guidance=" ")
    assert list(field_problems(data, {"CYP33-2.3"}, {"good"})) == [
        ("slug", "slug may use only lower-case letters, digits and hyphens"),
        ("guidance", "'guidance' must be text"),
        ("modules", "unknown module 'gone'"),
        ("word_count", "word_count must be {min: N, max: M} with 0 < N < M"),
        ("resubmissions_allowed", "resubmissions_allowed must be a whole number, 0 or more"),
    ]
    # Before units.yaml and the modules have loaded there is nothing to look names up in.
    assert ("modules", "unknown module 'gone'") not in list(field_problems(data, None, None))


def test_course_tasks_and_glossary_load(app):
    """The fixture course's glossary (tests/data/content/glossary.yaml) and tasks load whole."""
    catalog = app.extensions["catalog"]
    assert [t.term for t in catalog.glossary] == [
        "DSL", "early help", "health visitor", "LADO", "LSCB", "safeguarding partners"]
    assert [t.term for t in catalog.glossary if t.historical] == ["LSCB"]
    assert [t.slug for t in catalog.tasks] == ["cyp33-explain-partnership",
                                               "eye22-analyse-benefits"]
    for task in catalog.tasks:
        assert task.marking_guide and task.criteria


def test_glossary_page(client, auth, make_user, app):
    auth.login(make_user("learner"))
    html = client.get("/glossary").get_data(as_text=True)
    assert "<h1>Glossary</h1>" in html
    for term in app.extensions["catalog"].glossary:
        assert f'id="{term.anchor}"' in html
