"""Charts: valid SVG with a title and description, safe text, and tables that match the drawing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from learning.assessment.models import Decision
from learning.core.extensions import db
from learning.people.models import Cohort
from learning.reports import charts, matrix
from learning.reports.charts import Series, bar_chart, line_chart
from tests.htmlcheck import html_errors, needs_checker
from tests.test_matrix import module_progress, quiz_attempt, today_uk, written_work

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id and title.text
    assert desc is not None and desc.get("id") == desc_id and desc.text
    assert "style=" not in str(svg) and "<script" not in str(svg)  # CSP: no inline styles
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_line_chart_is_valid_and_labels_each_line():
    svg = line_chart("c1", "Progress", "Two cohorts.", ["5 Jan", "12 Jan", "19 Jan"],
                     [Series("Monday", (0.0, 1.5, 3.0)), Series("Tuesday", (0.5, 1.0, 2.5))],
                     "Modules", "Week", y_max=8)
    root = parse(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    # Not colour alone: different dash patterns, and the key's numbers at the line ends.
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    assert lines[0].get("stroke") != lines[1].get("stroke")
    assert {"1", "2"} <= set(texts(root))
    assert "8" in texts(root)  # the axis reaches the number of modules


def test_text_is_escaped():
    svg = line_chart("c2", "<b>Title</b> & co", "Desc with <script>alert(1)</script>",
                     ["a&b"], [Series("</text><script>x</script>", (1.0,))], "y", "x")
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "<b>Title</b> & co"
    assert "a&b" in texts(root)
    assert not list(root.iter(f"{SVG}script"))


def test_the_key_names_each_line_in_full_beside_a_small_drawing_of_it():
    names = ["Level 3 Early Years Educator, Tuesday evening group (2026 to 2027)", "Mon"]
    items = charts.key([Series(n, (1.0,)) for n in names])
    assert [(i.number, i.name) for i in items] == [(1, names[0]), (2, names[1])]
    assert items[1].words == "long dashes line, square markers"
    for i, item in enumerate(items):
        swatch = ET.fromstring(str(item.swatch))
        assert swatch.get("aria-hidden") == "true"  # the words say it; the drawing shows it
        line = swatch.find(f"{SVG}line")
        assert line.get("stroke") == charts.PALETTE[i]
        assert (line.get("stroke-dasharray") or "") == charts.DASHES[i]
        assert texts(swatch) == [str(i + 1)]


def test_bar_chart_writes_each_number_on_its_bar():
    values = [3, 0, 12, 7]
    root = parse(bar_chart("c3", "Scores", "Four bands.", ["A", "B", "C", "D"], values,
                           "Attempts", "Band"))
    assert len(list(root.iter(f"{SVG}rect"))) == 4
    words = texts(root)
    for value in values:
        assert str(value) in words
    heights = [float(r.get("height")) for r in root.iter(f"{SVG}rect")]
    assert heights[2] == max(heights) and heights[1] == 0


def test_ticks_and_label_spreading():
    assert charts._ticks(8) == [0, 2, 4, 6, 8]
    assert charts._ticks(0) == [0, 1]
    assert charts._ticks(13)[-1] >= 13
    # Counts: whole numbers, however few (bars of 1, 2 and 3 attempts).
    for top in (1, 2, 3, 4, 7, 13, 99):
        ticks = charts._ticks(top, whole=True)
        assert ticks[-1] >= top and all(t == int(t) for t in ticks), (top, ticks)
    assert 7.5 in charts._ticks(12) and 7.5 not in charts._ticks(12, whole=True)
    placed = charts._spread([100, 101, 102, 300], 15, 10, 400)
    assert sorted(placed) == placed
    assert all(b - a >= 15 for a, b in zip(placed, placed[1:], strict=False))


def table_numbers(chart) -> list[list[str]]:
    return [list(row[1:]) for row in chart.table.rows]


def test_completion_chart_from_the_database(app, make_user, make_cohort):
    modules = [m.slug for m in app.extensions["catalog"].modules]
    big = [make_user("learner") for _ in range(4)]
    small = [make_user("learner")]
    make_cohort("Big group", learners=big)
    make_cohort("Small group", learners=small)
    today = today_uk()
    monday = today - timedelta(days=today.weekday())
    at = datetime.combine(monday - timedelta(weeks=2), datetime.min.time(), UTC) \
        + timedelta(hours=10)
    module_progress(big[0], modules[0], at=at)
    module_progress(big[1], modules[0], at=at + timedelta(weeks=1))
    module_progress(big[1], modules[1], at=at + timedelta(weeks=1))
    module_progress(small[0], modules[0], at=at + timedelta(weeks=2))
    module_progress(small[0], modules[1], done=False, at=at)
    chart = charts.completion_chart(select(Cohort.id), modules, today)
    assert [h.split(" (")[0] for h in chart.table.headers] == ["Week beginning", "Big group",
                                                              "Small group"]
    assert table_numbers(chart)[-3:] == [["0.2", "0"], ["0.8", "0"], ["0.8", "1"]]
    root = parse(chart.svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert "Big group" in chart.summary or "Small group" in chart.summary
    # The drawing has one point per week: the same weeks as the table.
    points = next(root.iter(f"{SVG}polyline")).get("points").split()
    assert len(points) == len(chart.table.rows)


def test_completion_chart_shows_the_largest_cohorts(app, make_user, make_cohort):
    for n in range(8):
        make_cohort(f"Group {n}", learners=[make_user("learner") for _ in range(n + 1)])
    chart = charts.completion_chart(select(Cohort.id), ["m"], today_uk(), max_cohorts=6)
    assert len(chart.table.headers) == 7
    assert "Group 7" in chart.table.headers[1]
    assert chart.note.startswith("Showing the 6 largest of 8 cohorts")


def test_quiz_chart_bands(app, make_user, make_cohort):
    learner = make_user("learner")
    make_cohort("Q", learners=[learner])
    quiz = next(iter(app.extensions["quizzes"].values()))
    for n, percent in enumerate([5, 15, 79.9, 80, 100, 100], 1):
        quiz_attempt(learner, quiz.slug, percent, number=n)
    quiz_attempt(learner, quiz.slug, None, number=7, submitted=False)
    chart = charts.quiz_chart(matrix.learners_in(select(Cohort.id)))
    counts = [int(n) for _, n in chart.table.rows]
    assert counts == [1, 1, 0, 0, 0, 0, 0, 1, 1, 2]
    assert [t for t in texts(parse(chart.svg)) if t.isdigit()][-10:] == [str(c)
                                                                         for c in counts]
    assert "6 submitted attempts" in chart.summary and "3 (50%) scored 80% or more" in \
        chart.summary
    other = charts.quiz_chart(matrix.learners_in(select(Cohort.id)),
                              app.extensions["quizzes"]["unit-review"])
    assert other.empty and "No attempts" in other.summary


def test_turnaround_counts_the_first_decision_on_each_submission(app, make_user, make_cohort):
    assessor = make_user("assessor")
    learners = [make_user("learner") for _ in range(3)]
    make_cohort("T", learners=learners, assessors=[assessor])
    tasks = app.extensions["catalog"].tasks
    written_work(learners[0], tasks[0].slug, ["referred", "achieved"], assessor)  # 3, 3 days
    written_work(learners[1], tasks[0].slug, ["achieved"], assessor)
    late = db.session.scalars(select(Decision).order_by(Decision.id.desc())).first()
    late.released_at = late.work.submitted_at + timedelta(days=30)
    # A second decision on the same work (after an IQA disagreement) is not counted again.
    db.session.add(Decision(work_id=late.work_id, assessor_id=assessor.id, outcome="achieved",
                            created_at=late.released_at, updated_at=late.released_at,
                            released_at=late.released_at + timedelta(days=1),
                            release_number=2))
    db.session.commit()
    chart = charts.turnaround_chart(matrix.learners_in(select(Cohort.id)))
    counts = dict(chart.table.rows)
    assert counts["3–6 days"] == "2"
    assert counts["28+ days"] == "1"
    assert sum(int(n) for n in counts.values()) == 3
    assert "3 submissions decided" in chart.summary
    assert "on average 12.0 days" in chart.summary
    parse(chart.svg)


def test_charts_page_has_svg_summary_and_tables_in_scope(client, auth, make_user,
                                                          make_cohort, make_centre, app):
    coordinator = make_user("coordinator")
    mine = make_user("learner")
    theirs = make_user("learner")
    make_cohort("Mine", learners=[mine], centre=make_centre("N", coordinators=[coordinator]))
    make_cohort("Theirs", learners=[theirs], centre=make_centre("S"))
    quiz = next(iter(app.extensions["quizzes"].values()))
    quiz_attempt(mine, quiz.slug, 55)
    quiz_attempt(theirs, quiz.slug, 95)
    auth.login(coordinator)
    html = client.get("/reports/charts").get_data(as_text=True)
    svgs = re.findall(r'<svg[^>]* class="chart".*?</svg>', html, re.S)
    assert len(svgs) == 2  # completion and scores; turnaround has nothing to draw yet
    for svg in svgs:
        parse(svg)
    assert "1 submitted attempts at all quizzes" in html
    assert "<details" in html and "the figures as a table" in html
    assert "Theirs" not in html
    assert "No decisions have been released yet." in html


def test_the_charts_page_names_each_cohort_in_full_in_the_key(client, auth, make_user,
                                                               make_cohort, tmp_path):
    long_name = "Level 3 Early Years Educator, Tuesday evening group (2026 to 2027)"
    make_cohort(long_name, learners=[make_user("learner")])
    make_cohort("Monday group", learners=[make_user("learner")])
    auth.login(make_user("admin"))
    html = client.get("/reports/charts").get_data(as_text=True)
    key = re.search(r'<ol class="chart-legend">(.*?)</ol>', html, re.S).group(1)
    items = [" ".join(re.sub(r"<svg.*?</svg>|<[^>]+>", "", li, flags=re.S).split())
             for li in re.findall(r"<li>(.*?)</li>", key, re.S)]
    # Numbered in order, each with its whole name and how its line looks.
    assert [re.sub(r" \(.*\)$", "", i).split(": ", 1)[0] for i in items] == ["1", "2"]
    assert {re.sub(r"^\d: | \((solid|long dashes) line, (circle|square) markers\)$", "", i)
            for i in items} == {long_name, "Monday group"}
    drawn = texts(parse(re.search(r'<svg[^>]* class="chart".*?</svg>', html, re.S).group(0)))
    assert {"1", "2"} <= set(drawn)  # the lines are numbered at their ends ...
    assert not [t for t in drawn if "…" in t or "group" in t]  # ... no name cut short there
    if not needs_checker.args[0]:  # the page with its key is valid HTML, where Java runs
        (tmp_path / "charts.html").write_text(html)
        errors = html_errors([tmp_path / "charts.html"])
        assert not errors, "\n".join(errors)
