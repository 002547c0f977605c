"""Taking a quiz through the web pages: resume, limits, time-outs, feedback rules, snapshots."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.course.models import ModuleProgress
from learning.quizzes.loader import parse_quiz_text
from learning.quizzes.models import QuizAttempt
from tests.conftest import csrf_from, post_form

QUIZ = """\
quiz:
  slug: web-check
  title: Web check
  modules: [{module}]
  settings:
    pass_mark: {pass_mark}
    attempts_allowed: {attempts}
    delay_minutes: {delay}
    feedback: {feedback}
    show_correct_answers: {show}
    layout: {layout}
    counts_toward_completion: true
{extra}
questions:
  - id: partners
    type: single
    text: Who are the safeguarding partners?
    options:
      - id: right
        text: Local authority, ICB and police
        correct: true
        feedback: SECRET-RIGHT-FEEDBACK
      - id: wrong
        text: Local authority, Ofsted and schools
        feedback: SECRET-WRONG-FEEDBACK
    general_feedback: SECRET-GENERAL-FEEDBACK
  - id: nspcc
    type: truefalse
    text: The NSPCC can remove a child from home by itself.
    answer: false
    feedback_true: SECRET-TF-TRUE
    feedback_false: SECRET-TF-FALSE
"""


@pytest.fixture
def use_quiz(app, monkeypatch):
    """use_quiz(**settings) installs a quiz for this test and returns it."""

    def install(pass_mark=50, attempts="unlimited", delay=0, feedback="after_submit",
                show="after_pass_or_last", layout="all_on_one_page", extra="", text=None):
        module = app.extensions["catalog"].modules[0].slug
        source = text or QUIZ.format(module=module, pass_mark=pass_mark, attempts=attempts,
                                     delay=delay, feedback=feedback, show=show, layout=layout,
                                     extra=extra)
        quiz, problems = parse_quiz_text(source, "web-check.yaml", {module})
        assert quiz is not None, problems
        monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
        return quiz

    return install


def _start(client):
    response = post_form(client, "/quizzes/web-check", "/quizzes/web-check/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def _answer(client, attempt_id, action="save", page=1, **answers):
    html = client.get(f"/attempts/{attempt_id}?page={page}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "page": page, "action": action}
    data.update({f"q-{k}": v for k, v in answers.items()})
    return client.post(f"/attempts/{attempt_id}", data=data)


def _submit(client, attempt_id):
    return post_form(client, f"/attempts/{attempt_id}/summary", f"/attempts/{attempt_id}/submit")


@pytest.fixture
def learner(client, auth, make_user):
    user = make_user("learner")
    auth.login(user)
    return user


def test_open_attempt_never_contains_answers_or_feedback(client, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Who are the safeguarding partners?" in html
    assert "SECRET" not in html
    assert "correct" not in html.lower().replace("not correct", "")
    _answer(client, attempt_id, partners="wrong")
    assert "SECRET" not in client.get(f"/attempts/{attempt_id}").get_data(as_text=True)


def test_answers_survive_logout_and_resume_the_same_attempt(client, auth, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="right", nspcc="false")
    auth.logout()
    auth.login(learner)
    assert _start(client) == attempt_id  # "Continue" takes them back to the same attempt
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert re.search(r'value="right"\s+checked', html)
    assert re.search(r'value="false"\s+checked', html)


def test_double_start_and_double_submit_record_one_result(client, learner, use_quiz):
    use_quiz()
    first, second = _start(client), _start(client)
    assert first == second
    _answer(client, first, partners="right", nspcc="false")
    page = client.get(f"/attempts/{first}/summary").get_data(as_text=True)
    token = csrf_from(page)
    for _ in range(3):  # a double click, or two tabs
        client.post(f"/attempts/{first}/submit", data={"csrf_token": token})
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "quiz.submit")) == 1
    attempt = db.session.get(QuizAttempt, first)
    assert attempt.percent == 100 and attempt.passed


def test_attempt_limit(client, learner, use_quiz):
    use_quiz(attempts=1)
    _submit(client, _start(client))
    response = post_form(client, "/quizzes/web-check", "/quizzes/web-check/start",
                         follow_redirects=True)
    assert "You have used all 1 attempts at this quiz." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1


def test_delay_between_attempts(client, learner, use_quiz):
    use_quiz(delay=30)
    first = _start(client)
    _submit(client, first)
    page = client.get("/quizzes/web-check").get_data(as_text=True)
    assert "You need to wait before your next attempt." in page
    assert "You can try again from" in page
    attempt = db.session.get(QuizAttempt, first)
    attempt.submitted_at -= timedelta(minutes=31)
    attempt.started_at -= timedelta(minutes=31)
    db.session.commit()
    assert _start(client) != first


def test_time_limit_is_enforced_on_the_server(client, learner, use_quiz):
    use_quiz(extra="    time_limit_minutes: 10")
    attempt_id = _start(client)
    assert "Time left" in client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    _answer(client, attempt_id, partners="right")
    attempt = db.session.get(QuizAttempt, attempt_id)
    attempt.deadline_at -= timedelta(minutes=11)
    attempt.started_at -= timedelta(minutes=11)
    db.session.commit()
    # Any request after the deadline submits what was saved; later answers are refused.
    response = client.get(f"/attempts/{attempt_id}", follow_redirects=True)
    assert "Time ran out" in response.get_data(as_text=True)
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.state == "submitted" and attempt.timed_out
    assert attempt.percent == 50  # the saved answer counted, the blank one did not


def test_saving_after_the_deadline_is_refused(client, learner, use_quiz):
    use_quiz(extra="    time_limit_minutes: 10")
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    attempt = db.session.get(QuizAttempt, attempt_id)
    attempt.deadline_at -= timedelta(minutes=11)
    db.session.commit()
    response = client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": csrf_from(html), "page": 1, "action": "save", "q-partners": "right"},
        follow_redirects=True)
    assert "Time ran out" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt_id).percent == 0


def test_feedback_after_submit_and_answers_only_after_pass(client, learner, use_quiz):
    use_quiz(pass_mark=100)
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="wrong", nspcc="false")
    review = _submit(client, attempt_id)
    html = client.get(review.headers["Location"]).get_data(as_text=True)
    assert "SECRET-WRONG-FEEDBACK" in html and "SECRET-GENERAL-FEEDBACK" in html
    assert "Correct answer:" not in html  # failed, attempts left: no answers yet
    assert "50%" in html and "Not passed yet" in html
    second = _start(client)
    _answer(client, second, partners="right", nspcc="false")
    html = client.get(_submit(client, second).headers["Location"]).get_data(as_text=True)
    assert "Correct answer:" in html and "You passed" in html


def test_immediate_feedback_locks_the_checked_question(client, learner, use_quiz):
    use_quiz(feedback="immediate", layout="one_per_page", show="after_submit")
    attempt_id = _start(client)
    _answer(client, attempt_id, action="check", page=1, partners="wrong")
    html = client.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert "SECRET-WRONG-FEEDBACK" in html and "Not correct" in html
    assert "disabled" in html
    _answer(client, attempt_id, action="save", page=1, partners="right")  # ignored: locked
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt_id).answer_for("partners").answer == "wrong"
    page2 = client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    assert "SECRET" not in page2


def test_immediate_feedback_shows_only_checked_answers_until_submitted(client, learner,
                                                                      use_quiz):
    use_quiz(feedback="immediate", layout="one_per_page", show="after_submit")
    attempt_id = _start(client)
    _answer(client, attempt_id, action="save", page=2, nspcc="true")  # saved, not checked
    page2 = client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    assert "SECRET" not in page2 and "Not correct" not in page2
    _answer(client, attempt_id, action="check", page=1, partners="right")
    page1 = client.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert "SECRET-RIGHT-FEEDBACK" in page1 and "SECRET-GENERAL-FEEDBACK" in page1
    assert "Correct answer:" not in page1  # answers only after submitting
    assert "SECRET" not in client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    review = client.get(_submit(client, attempt_id).headers["Location"]).get_data(as_text=True)
    # Submitted: feedback on every answer, checked or not, and the right answers.
    assert "SECRET-RIGHT-FEEDBACK" in review and "SECRET-TF-TRUE" in review
    assert "SECRET-TF-FALSE" not in review  # the feedback for the answer they did not give
    assert review.count("Correct answer:") == 2


def test_right_answers_never_shown_when_the_quiz_says_never(client, learner, use_quiz):
    use_quiz(show="never", attempts=1)
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="right", nspcc="true")
    review = client.get(_submit(client, attempt_id).headers["Location"]).get_data(as_text=True)
    assert "You passed" in review and "SECRET-RIGHT-FEEDBACK" in review
    assert "Correct answer:" not in review  # passed, and no attempts left: still never


def test_answers_shown_after_the_last_attempt_even_when_failed(client, learner, use_quiz):
    use_quiz(pass_mark=100, attempts=1)
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="wrong", nspcc="false")
    review = client.get(_submit(client, attempt_id).headers["Location"]).get_data(as_text=True)
    assert "Not passed yet" in review
    assert review.count("Correct answer:") == 2


def test_editing_the_quiz_file_never_changes_a_past_attempt(client, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="right", nspcc="false")
    # The author swaps the key after the attempt started.
    edited = QUIZ.replace("correct: true\n        feedback: SECRET-RIGHT", "feedback: SECRET-RIGHT")
    edited = edited.replace("feedback: SECRET-WRONG-FEEDBACK",
                            "correct: true\n        feedback: SECRET-WRONG-FEEDBACK")
    module = client.application.extensions["catalog"].modules[0].slug
    new = use_quiz(text=edited.format(module=module, pass_mark=50, attempts="unlimited",
                                      delay=0, feedback="after_submit",
                                      show="after_pass_or_last", layout="all_on_one_page",
                                      extra=""))
    _submit(client, attempt_id)
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.percent == 100
    assert attempt.quiz_version != new.version


def test_two_texts_of_one_question_are_each_graded_by_their_own(app, client, learner,
                                                                  use_quiz, make_user):
    """Questions rebuilt from snapshots are shared between attempts with the same snapshot;
    one with the same id but another key must never be taken for it."""
    from tests.conftest import Auth

    use_quiz()
    before = _start(client)
    _answer(client, before, partners="right", nspcc="false")
    swapped = QUIZ.replace("correct: true\n        feedback: SECRET-RIGHT",
                           "feedback: SECRET-RIGHT")
    swapped = swapped.replace("feedback: SECRET-WRONG-FEEDBACK",
                              "correct: true\n        feedback: SECRET-WRONG-FEEDBACK")
    module = app.extensions["catalog"].modules[0].slug
    use_quiz(text=swapped.format(module=module, pass_mark=50, attempts="unlimited", delay=0,
                                 feedback="after_submit", show="after_pass_or_last",
                                 layout="all_on_one_page", extra=""))
    other = app.test_client()
    Auth(other).login(make_user("learner"))
    after = _start(other)
    _answer(other, after, partners="right", nspcc="false")  # right before the swap, not now
    _submit(client, before)
    _submit(other, after)
    assert db.session.get(QuizAttempt, before).percent == 100
    assert db.session.get(QuizAttempt, after).percent == 50


def test_passing_updates_module_progress(client, learner, use_quiz, app):
    use_quiz()
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="right", nspcc="false")
    _submit(client, attempt_id)
    slug = app.extensions["catalog"].modules[0].slug
    row = db.session.scalar(select(ModuleProgress).where(ModuleProgress.module_slug == slug))
    assert row is not None and row.completed_at is not None


def test_autosave_returns_json(client, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    response = client.post(f"/attempts/{attempt_id}/autosave", data={
        "csrf_token": csrf_from(html), "q-partners": "right", "q-nspcc": "true"})
    assert response.status_code == 200
    assert response.get_json()["saved"] == ["nspcc", "partners"]
    without_token = client.post(f"/attempts/{attempt_id}/autosave", data={"q-nspcc": "x"})
    assert without_token.status_code == 400


def test_another_learner_cannot_open_my_attempt(client, auth, learner, use_quiz, make_user):
    use_quiz()
    attempt_id = _start(client)
    auth.logout()
    auth.login(make_user("learner"))
    assert client.get(f"/attempts/{attempt_id}").status_code == 403
    assert client.get(f"/attempts/{attempt_id}/review").status_code == 403


def test_statistics_for_coordinators_only(client, auth, learner, use_quiz, make_user,
                                          make_centre, make_cohort):
    use_quiz()
    coordinator, elsewhere = make_user("coordinator"), make_user("coordinator")
    make_cohort("Quiz group", learners=[learner],
                centre=make_centre("Quiz College", coordinators=[coordinator]))
    make_centre("Other College", coordinators=[elsewhere])
    for picks in (("right", "false"), ("wrong", "true")):
        attempt_id = _start(client)
        _answer(client, attempt_id, partners=picks[0], nspcc=picks[1])
        _submit(client, attempt_id)
    assert client.get("/quizzes/web-check/statistics").status_code == 403
    auth.logout()
    auth.login(coordinator)
    html = client.get("/quizzes/web-check/statistics").get_data(as_text=True)
    assert "Submitted attempts" in html and "50.0%" in html
    assert "Local authority, Ofsted and schools" in html  # option counts are labelled
    auth.logout()
    auth.login(elsewhere)  # another centre's coordinator sees none of these attempts
    html = client.get("/quizzes/web-check/statistics").get_data(as_text=True)
    assert "No attempts have been submitted yet." in html


def test_staff_see_the_quiz_but_cannot_start(client, auth, make_user, use_quiz):
    use_quiz()
    auth.login(make_user("assessor"))
    assert "Start attempt" not in client.get("/quizzes/web-check").get_data(as_text=True)
    assert post_form(client, "/quizzes/web-check", "/quizzes/web-check/start").status_code == 403


MOODLE_RULES_QUIZ = """\
quiz:
  slug: web-check
  title: Web check
  modules: [{module}]
  settings: {{pass_mark: 50}}
questions:
  - id: partners
    type: single
    text: Who are the safeguarding partners?
    options:
      - {{id: right, text: "Local authority, ICB and police", correct: true}}
      - {{id: wrong, text: "Local authority, Ofsted and schools", weight: -50}}
  - id: year
    type: numerical
    text: In which year was the NSPCC founded?
    answers: [1884]
"""


def test_a_thousands_separator_is_kept_and_the_learner_asked_to_re_enter_it(
        app, client, learner, use_quiz):
    """As Moodle's numerical question: "1,822" is an answer (not blank), with a message."""
    module = app.extensions["catalog"].modules[0].slug
    use_quiz(text=MOODLE_RULES_QUIZ.format(module=module))
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="wrong", year="1,884")
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert 'value="1,884"' in html
    assert 'id="q-year-error"' in html and 'aria-describedby="q-year-hint q-year-error"' in html
    assert "without using the thousands separator (,)" in html
    summary = client.get(f"/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "Answer saved, but check it: Please enter your answer without" in summary
    _submit(client, attempt_id)
    attempt = db.session.get(QuizAttempt, attempt_id)
    scores = {a.question_id: a.score for a in attempt.answers}
    # A negative weight scores negative (Moodle's single choice); 1,884 is read as 1.884.
    assert scores == {"partners": -0.5, "year": 0.0}
    assert (attempt.marks, attempt.percent, attempt.passed) == (0.0, 0.0, False)


def test_choice_labels_are_rendered_like_question_text_not_printed_raw(
        app, client, learner, use_quiz):
    """An option imported from GIFT's [html]<i>red</i> is `*red*`: learners see emphasis."""
    module = app.extensions["catalog"].modules[0].slug
    source = MOODLE_RULES_QUIZ.format(module=module).replace(
        '"Local authority, Ofsted and schools"', '"*Ofsted* and <b onclick=x>schools</b>"')
    use_quiz(text=source)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert '<label for="q-partners-wrong"><em>Ofsted</em> and <b>schools</b></label>' in html
    assert "onclick" not in html and "*Ofsted*" not in html


def test_missing_word_text_is_rendered_around_the_gap(app, client, learner, use_quiz):
    """Imported text is Markdown (a [moodle] line break is <br>, a literal star is \\*): the
    two sides of a gap are rendered, keeping the spaces next to it."""
    module = app.extensions["catalog"].modules[0].slug
    source = MOODLE_RULES_QUIZ.format(module=module).replace(
        "text: Who are the safeguarding partners?",
        'text: "The ___ makes sure agencies *talk*, 2\\\\*3."')
    use_quiz(text=source)
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert ('<p>The <span class="gap">______</span><span class="visually-hidden"> (gap) '
            '</span> makes sure agencies <em>talk</em>, 2*3.</p>') in html


def _result_top(html: str) -> str:
    """The result page before the first question's review."""
    return html.split('<ol class="review-list">')[0]


@pytest.mark.parametrize("attempts, try_again", [("unlimited", True), (1, False)])
def test_the_result_says_the_score_plainly_and_leads_on_at_the_top(
        client, learner, use_quiz, app, attempts, try_again):
    quiz = use_quiz(attempts=attempts)
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="right", nspcc="true")
    response = _submit(client, attempt_id)
    top = _result_top(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "1 out of 2 marks (50%)" in top
    module = app.extensions["catalog"].module(quiz.modules[0])
    assert f'href="/course/{module.slug}">Back to the module: {module.title}</a>' in top
    assert ('action="/quizzes/web-check/start"' in top) is try_again
    assert (">Try again</button>" in top) is try_again


def test_the_attempt_page_counts_answers_and_the_navigator_marks_them(client, learner,
                                                                      use_quiz):
    use_quiz(layout="one_per_page")
    attempt_id = _start(client)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "0 of 2 answered" in page
    assert page.count("not answered</span>") == 2
    _answer(client, attempt_id, page=1, partners="right")
    page = client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    assert "1 of 2 answered" in page
    nav = page.split('aria-label="Questions"')[1]
    assert re.search(r'>1<span aria-hidden="true">✓</span><span class="visually-hidden">, '
                     r'answered</span>', nav)
    assert re.search(r'>2<span aria-hidden="true"></span><span class="visually-hidden">, not '
                     r'answered</span>', nav)


DESCRIPTION = """\
  - id: before-you-start
    type: description
    text: "Read **this** first: <script>alert(1)</script>the partners are named in law."
"""


def _with_description(app, where: str = "first") -> str:
    """The web-check quiz with a description before the first question (or between them)."""
    module = app.extensions["catalog"].modules[0].slug
    source = QUIZ.format(module=module, pass_mark=50, attempts="unlimited", delay=0,
                         feedback="after_submit", show="after_submit", layout="{layout}",
                         extra="")
    anchor = "questions:\n" if where == "first" else "  - id: nspcc\n"
    return source.replace(anchor, anchor + DESCRIPTION if where == "first"
                          else DESCRIPTION + anchor, 1)


def test_a_description_is_shown_unnumbered_and_never_counted_or_graded(app, client, learner,
                                                                       use_quiz):
    """Moodle's description: its text is rendered among the questions, it has no number and
    no marks, is not "unanswered" on the summary, and the attempt's result ignores it."""
    use_quiz(text=_with_description(app).replace("{layout}", "all_on_one_page"))
    attempt_id = _start(client)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert ('<p class="question-number">Information</p>\n  <div class="question-text">'
            '<p>Read <strong>this</strong> first: alert(1)the partners are named in law.</p>'
            ) in page
    assert "<script>alert" not in page
    assert "Question 1" in page and "Question 2" in page and "Question 3" not in page
    assert "0 of 2 answered" in page
    # A tampered form cannot give the description an answer.
    _answer(client, attempt_id, partners="right", **{"before-you-start": "x"})
    summary = client.get(f"/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "You have not answered 1 of 2 questions." in summary
    assert "before-you-start" not in summary
    _answer(client, attempt_id, nspcc="false")
    response = _submit(client, attempt_id)
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert (attempt.max_marks, attempt.marks, attempt.percent) == (2, 2, 100)
    assert sorted(a.question_id for a in attempt.answers) == ["nspcc", "partners"]
    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 out of 2 marks (100%)" in review
    assert ('<h2 class="question-number">Information</h2>\n    <div class="question-text">'
            '<p>Read <strong>this</strong> first') in review
    assert "Question 2</h2>" in review and "Question 3</h2>" not in review


def test_one_per_page_shows_a_description_with_the_question_after_it(app, client, learner,
                                                                      use_quiz):
    use_quiz(text=_with_description(app, where="between").replace("{layout}", "one_per_page"))
    attempt_id = _start(client)
    first = client.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert "Information" not in first and "Question 1 of 2" in first
    second = client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    assert "Question 2 of 2" in second
    assert second.index("Read <strong>this</strong>") < second.index("Question 2</legend>")
    assert second.count("not answered</span>") == 2  # two pages, two questions


def test_immediate_feedback_checks_a_page_with_a_description_and_then_hides_the_button(
        app, client, learner, use_quiz):
    """The description on the page has nothing to check: once its question is checked, the
    Check button goes, as on a page without one."""
    source = _with_description(app, where="between").replace("{layout}", "one_per_page")
    use_quiz(text=source.replace("feedback: after_submit", "feedback: immediate"))
    attempt_id = _start(client)
    page = client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    assert 'value="check"' in page and "Check answer<" in page  # one question: singular
    _answer(client, attempt_id, action="check", page=2, nspcc="false")
    page = client.get(f"/attempts/{attempt_id}?page=2").get_data(as_text=True)
    assert "SECRET-TF-FALSE" in page and 'value="check"' not in page


def test_extra_time_set_by_the_coordinator_is_given_by_the_server(
        client, auth, make_user, make_cohort, make_centre, use_quiz):
    """UK access arrangements: a learner with 25% extra time gets 25 minutes for a 20-minute
    quiz, counted by the server like the limit itself."""
    from learning.core.types import utcnow
    from learning.quizzes.models import QuizAttempt
    from tests.conftest import post_form as post

    coordinator = make_user("coordinator")
    learner, other = make_user("learner", name="Lee Learner"), make_user("learner")
    make_cohort(learners=[learner], centre=make_centre(coordinators=[coordinator]))
    outsider = make_cohort(learners=[other], centre=make_centre("Elsewhere"))
    assert outsider
    use_quiz(extra="    time_limit_minutes: 20")
    auth.login(coordinator)
    person = f"/admin/people/{learner.id}"
    assert post(client, person, f"{person}/extra-time",
                data={"extra_time_percent": "25"}).status_code == 302
    assert post(client, person, f"{person}/extra-time",
                data={"extra_time_percent": "33"}).status_code == 302  # not offered: refused
    db.session.refresh(learner)
    assert learner.extra_time_percent == 25
    refused = post(client, person, f"/admin/people/{other.id}/extra-time",
                   data={"extra_time_percent": "50"})
    assert refused.status_code in (403, 404)  # another centre's learner
    auth.logout()

    auth.login(learner)
    assert "you have 25% extra time, so 25 minutes in all" in client.get(
        "/quizzes/web-check").get_data(as_text=True)
    before = utcnow()
    attempt_id = _start(client)
    attempt = db.session.get(QuizAttempt, attempt_id)
    allowed = (attempt.deadline_at - before).total_seconds()
    assert 25 * 60 - 5 <= allowed <= 25 * 60 + 5


FORMATS_QUIZ = """\
quiz:
  slug: web-check
  title: Web check
  modules: [{module}]
  settings: {{pass_mark: 50, feedback: immediate, show_correct_answers: immediate}}
questions:
  - id: partners
    type: single
    text_format: html
    text: '<p>Who are the <b>partners</b>?<script>alert(1)</script></p>'
    options:
      - {{id: right, text: '<i>Police</i> <img src=x onerror=alert(2)>', correct: true,
         feedback: '<a href="javascript:alert(3)">why</a> <em>Yes</em>'}}
      - {{id: wrong, text: '<p>Ofsted</p>'}}
  - id: nspcc
    type: truefalse
    text_format: plain
    text: "Is <b>this</b> *literal*?\\nYes"
    answer: true
  - id: note
    type: description
    text_format: moodle
    text: "Line one\\n<i>line</i> two"
"""


def test_each_text_format_is_rendered_by_its_own_rule_and_sanitised(
        app, client, learner, use_quiz):
    module = app.extensions["catalog"].modules[0].slug
    use_quiz(text=FORMATS_QUIZ.format(module=module))
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "<p>Who are the <b>partners</b>?alert(1)</p>" in html  # html, script dropped
    assert '<label for="q-partners-right"><i>Police</i></label>' in html
    assert '<label for="q-partners-wrong">Ofsted</label>' in html  # no block in a label
    assert "<p>Is &lt;b&gt;this&lt;/b&gt; *literal*?<br>\nYes</p>" in html  # plain
    assert '<div class="text_to_html">Line one<br>\n<i>line</i> two</div>' in html  # moodle
    _answer(client, attempt_id, action="check", partners="right")
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "<a>why</a> <em>Yes</em>" in html  # feedback rendered as HTML, link made inert
    main = html.split("<main")[1]  # the page's own <script> is in <head>
    for bad in ("<script", "onerror", "javascript:", "<img"):
        assert bad not in main


def test_attempts_stored_without_a_text_format_render_as_markdown(app, client, learner,
                                                                   use_quiz):
    """Snapshots and views from before formats have no text_format: they are Markdown,
    and a Markdown quiz still writes none, so its version is unchanged."""
    use_quiz()
    attempt_id = _start(client)
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert all("text_format" not in item["question"] and "text_format" not in item["view"]
               for item in attempt.questions)
    questions = [dict(item, view=dict(item["view"], text="Who are the *partners*?"))
                 for item in attempt.questions]
    attempt.questions = questions
    db.session.commit()
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Who are the <em>partners</em>?" in html


def test_an_unknown_text_format_is_reported_with_file_and_line(app):
    module = app.extensions["catalog"].modules[0].slug
    source = FORMATS_QUIZ.format(module=module).replace("text_format: plain",
                                                        "text_format: rtf")
    quiz, problems = parse_quiz_text(source, "formats.yaml", {module})
    assert quiz is None
    assert [str(p) for p in problems if p.level == "error"] == [
        "formats.yaml:17: question 'nspcc' has text_format 'rtf'; use one of: "
        "markdown, html, moodle, plain (markdown if left out)"]


def test_statistics_show_each_question_in_its_own_format(app, client, auth, learner, use_quiz,
                                                          make_user, make_centre, make_cohort):
    module = app.extensions["catalog"].modules[0].slug
    use_quiz(text=FORMATS_QUIZ.format(module=module))
    coordinator = make_user("coordinator")
    make_cohort("Quiz group", learners=[learner],
                centre=make_centre("Quiz College", coordinators=[coordinator]))
    attempt_id = _start(client)
    _answer(client, attempt_id, partners="right", nspcc="true")
    _submit(client, attempt_id)
    auth.logout()
    auth.login(coordinator)
    html = client.get("/quizzes/web-check/statistics").get_data(as_text=True)
    assert "<p>Who are the <b>partners</b>?alert(1)</p>" in html
    assert "<td><i>Police</i></td>" in html
    assert "<p>Is &lt;b&gt;this&lt;/b&gt; *literal*?<br>\nYes</p>" in html
