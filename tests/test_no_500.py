"""No request gives a 500: every route in the app's URL map, GET and (with a valid CSRF token)
POST, as each role, with hostile values in the path, the query string and the form.

Hypothesis draws the values, derandomized so every run sends the same requests; each example
is one route with one set of values, sent as each of the six roles. A route with variables in
its path is driven twice: with real values there (so the view reads the query string and the
form) and with hostile ones. Examples per case: HOSTILE_EXAMPLES (default 2; about 290 in
all). With TEST_DATABASE_URL set the whole file runs on PostgreSQL.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from learning import create_app
from learning.assessment import marking, submissions
from learning.core import jobs
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa import reviews
from learning.iqa.models import IqaSample
from learning.people import csv_uploads, import_jobs, invitations, membership, notifications
from learning.people.models import Centre, CentreMember, Cohort, LoginSession, Role, User, UserRole
from learning.quizzes import attempts
from learning.reports import export_jobs
from learning.reports.exports import INCOMPLETE
from learning.reports.matrix import Filters
from tests.conftest import _FAST_HASH, Auth, csrf_from, fixture_settings

ROLES = ("anonymous", "learner", "assessor", "iqa", "coordinator", "admin")
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "2"))

# ---- the routes, read from a copy of the app at collection time ----

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    rule: str
    method: str

    @property
    def arguments(self) -> list[tuple[str, str]]:
        """(name, converter) for each variable part of the rule, in order."""
        return [(m["name"], m["converter"] or "default") for m in _ARGUMENT.finditer(self.rule)]

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def routes_of(app) -> list[Route]:
    return sorted({Route(rule.rule, method) for rule in app.url_map.iter_rules()
                   for method in rule.methods or () if method in ("GET", "POST")},
                  key=lambda r: (r.rule, r.method))


ROUTES = routes_of(create_app(fixture_settings("sqlite://")))


# ---- hostile values ----

#: Each example picks one hostile number and one hostile text and puts them in the request's
#: slots: the path's variables (when they are hostile), every query-string field a view reads
#: and (for a POST) every form field. Hypothesis's first example is the simplest one: the first
#: number below in every path variable and field that holds a number, a plausible date in
#: every date, and the first text below everywhere else. Later examples mix them at random.
HOSTILE_NUMBERS = ["99999999999999999999", "-1", "2147483648", "9223372036854775808",
                   "-99999999999999999999", "0", "1" + "0" * 100, "1e999", "1.5", "NaN",
                   "0x10", "١٢", "+1", "-0"]
HOSTILE_TEXT = ["/a\x00b\r\nc\u202ed\u200b", "%00", "%0a", "%0d%0aSet-Cookie:x=1",
                "\r\nLocation: x", "../", "../../app.py", "..%2f..%2fapp.py",
                "..\\..\\app.py", "x" * 5000, "\u202eevil", "\u2066", "Ann\u200bLee", "\ufeff",
                "\t", "\x1b[31m", "\x7f", "\x01", "😀", "ｆｕｌｌ", "é", "ﷺ", "\U0010fffd",
                "%ff%fe", "%", "%zz", "", " ", "//evil.test", "\\\\evil.test",
                "<script>alert(1)</script>", "' OR 1=1 --", "null", "[]", "{}", "a&b=c", "#",
                "?", "\\"]
#: Values that pass a form's first checks, so a hostile value elsewhere reaches deeper code.
PLAUSIBLE = ["1", "2", "y", "on", "2026-09-01", "1/9/2026", "31/7/2027", "met", "not-met",
             "release", "save", "next", "prev", "check", "finish", "agree", "disagree",
             "learner", "assessor", "iqa", "coordinator", "admin", "yes", "no", "CYP33",
             "EYE22", "name", "progress", "overdue", "red", "amber", "green"]
#: Query-string fields views read (the form's fields are these and those of the world).
QUERY = ["page", "cohort", "assessor", "q", "status", "sort", "overdue", "quiz", "task",
         "reviewed", "conflict", "next", "download", "archived", "action", "actor",
         "date_from", "date_to", "role", "active", "show"]
FORM = [*QUERY, "email", "password", "remember", "name", "confirm", "current", "new", "text",
        "based_on", "preview", "save", "declaration", "sources", "feedback", "actions", "digest",
        "starts_on", "ends_on", "unit_id", "centre_id", "target", "assessor-user_id",
        "iqa-user_id", "upload_id", "roles", "centres", "verdict", "comments", "rate",
        "new_assessor", "submit", "file",
        # evidence per criterion (the marking page's "Add evidence" and "Remove")
        "passage", "criterion", "evidence_met", "note", "work", "selection", "quote",
        "evidence_id"]
#: Fields that hold a whole number, and fields that hold a date (deadlines: kind-slug).
NUMBER_FIELDS = {"page", "cohort", "assessor", "conflict", "based_on", "centre_id", "target",
                 "assessor-user_id", "iqa-user_id", "centres", "rate", "work", "evidence_id"}
DATE_FIELDS = {"date_from", "date_to", "starts_on", "ends_on"}


def field_kind(name: str) -> str:
    if name in NUMBER_FIELDS or name.endswith("-rate"):
        return "number"
    if name in DATE_FIELDS or name.startswith(("module-", "quiz-", "task-")):
        return "date"
    return "text"


numbers = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers().map(str))
texts = st.one_of(st.sampled_from(HOSTILE_TEXT),
                  # no lone surrogates: UTF-8 cannot carry them, so no request holds one
                  st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40))


def _quote(value: str, safe: str = "%") -> str:
    """Percent-encode, but leave `%` alone: `%00` and `%0a` arrive as NUL and a line break."""
    return quote(value, safe=safe)


@dataclass
class World:
    """What exists while the routes are driven: a login per role, and real values for each
    path variable (a real cohort id for cohort_id, a module's slug under /course/, ...)."""

    cookies: dict[str, str | None] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: list[int] = field(default_factory=list)
    real: dict[str, list[str]] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)

    def real_for(self, route: Route, name: str) -> list[str]:
        if name == "slug":
            return self.real[route.rule.split("/")[1]]  # course, quizzes or tasks
        return self.real[name]


@st.composite
def requests(draw, route: Route, world: World, path: str):
    """(url, form) for one request to `route`, with real values in the path or (`path` is
    "hostile") the hostile ones; form is None for a GET (the CSRF token is added per role)."""
    number, text = draw(numbers, label="number"), draw(texts, label="text")
    real = st.sampled_from(PLAUSIBLE)
    by_kind = {"number": st.one_of(st.just(number), st.just(text), real),
               "date": st.one_of(st.sampled_from(["2026-09-01", "1/9/2026"]), st.just(number),
                                 st.just(text)),
               "text": st.one_of(st.just(text), st.just(number), real)}
    url = route.rule
    for name, converter in route.arguments:  # in order: each fills the first one left
        if path == "real":
            choices = world.real_for(route, name)
        else:  # a number where a number goes first, then the text; the other way round
            choices = [number, text] if converter == "int" else [text, number]
        value = draw(st.sampled_from(choices), label=name)
        quoted = _quote(value, "%/" if converter == "path" else "%")
        url = _ARGUMENT.sub(lambda _m, v=quoted: v, url, count=1)
    query = draw(st.fixed_dictionaries({name: by_kind[field_kind(name)] for name in QUERY}),
                 label="query")
    url += "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in query.items())
    if route.method != "POST":
        return url, None
    form = draw(st.fixed_dictionaries({name: by_kind[field_kind(name)]
                                       for name in world.fields}), label="form")
    if draw(st.booleans(), label="upload"):  # multipart, with a file (for /admin/enrol)
        form["file"] = (io.BytesIO(draw(st.binary(max_size=200))), form["file"])
    else:
        del form["file"]
    return url, form


# ---- the world: built once for every route, with a login per role ----

def _build(app) -> World:
    now = utcnow()
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    people = {}
    for role in ROLES[1:]:
        user = User(email=f"{role}@example.test", name=f"{role.title()} Person",
                    password_hash=_FAST_HASH, active=True)
        user.roles = [UserRole(role=role)]
        db.session.add(user)
        people[role] = user
    centre = Centre(name="Hostile College")
    db.session.add(centre)
    db.session.flush()
    db.session.add(CentreMember(centre_id=centre.id, user_id=people["coordinator"].id))
    cohort = Cohort(name="Hostile cohort", centre_id=centre.id, unit_id=catalog.units[0].id)
    db.session.add(cohort)
    db.session.flush()
    membership.enrol(people["learner"], cohort)
    membership.assign_staff(people["assessor"], cohort, Role.ASSESSOR)
    membership.assign_staff(people["iqa"], cohort, Role.IQA)
    db.session.commit()
    # Work to find at real ids: a submitted answer with a released decision in the IQA's
    # sample, a second answer still a draft, and an open quiz attempt.
    task, *more = catalog.tasks
    sub = submissions.get_or_create(people["learner"], task)
    submissions.save_draft(sub, "Partners share what they know.", None, now)
    work = submissions.submit(sub, task, people["learner"], True, "", now)
    decision = marking.save_decision(work, task, people["assessor"],
                                     {c: (True, "Yes.") for c in task.criteria}, "Good.", "",
                                     now, release=True)
    sample = db.session.scalar(select(IqaSample).where(
        IqaSample.decision_id == decision.id)) or reviews.add_to_sample(
        decision, people["iqa"], now)
    review = reviews.record_review(sample, people["iqa"], "agree", "Sound.", "", task.title, now)
    for other in more:
        submissions.save_draft(submissions.get_or_create(people["learner"], other), "Draft.",
                               None, now)
    attempt = attempts.start_attempt(people["learner"], next(iter(quizzes.values())), now)
    db.session.commit()

    link = invitations.issue(people["learner"], invitations.RESET)
    db.session.commit()
    job = jobs.enqueue("email", notifications.email_payload(people["learner"], "Ready.", "/"))
    job.status, job.last_error = "failed", "TimeoutError: timed out"  # for the outbox's retry
    export, _ = export_jobs.request_export(people["coordinator"], export_jobs.MATRIX,
                                           Filters(), now.date())
    db.session.commit()
    # A large CSV import waiting for the worker, for its progress page.
    enrolling = import_jobs.queue(csv_uploads.Claimed(
        "hostile-upload", "learners.csv", "name,email,cohort\nA,a@example.test,Hostile cohort\n",
        1), people["coordinator"])
    db.session.commit()

    world = World()
    world.user_ids = [u.id for u in people.values()]
    learner, others = str(people["learner"].id), [str(i) for i in world.user_ids]
    world.real = {
        "course": [m.slug for m in catalog.modules], "quizzes": sorted(quizzes),
        "help": [p.slug for p in catalog.pages],
        "tasks": [t.slug for t in catalog.tasks], "user_id": [learner, *others],
        "cohort_id": [str(cohort.id)], "submission_id": [str(sub.id)],
        "attempt_id": [str(attempt.id)], "decision_id": [str(decision.id)],
        "sample_id": [str(sample.id)], "review_id": [str(review.id)], "number": ["1", "2"],
        "role": ["assessor", "iqa"],
        "token": [link.token], "filename": ["css/site.css", "js/site.js"],
        "job_id": [str(job.id)], "export_id": [str(export.id)],
        "import_id": [str(enrolling.id)], "centre_id": [str(cohort.centre_id or 1)],
        "action": ["archive", "unarchive"]}
    world.fields = sorted({*FORM,
                           *(f"{k}-{c}" for t in catalog.tasks for c in t.criteria
                             for k in ("met", "comment")),
                           *(f"q-{q.id}" for quiz in quizzes.values() for q in quiz.questions),
                           *(f"{kind}-{slug}" for kind, slugs in (
                               ("module", [m.slug for m in catalog.modules]),
                               ("quiz", list(quizzes)), ("task", [t.slug for t in catalog.tasks]))
                             for slug in slugs),
                           *(f"plan-{i}-{k}" for i in world.user_ids for k in ("rate",
                                                                             "new_assessor"))})
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert Auth(client).login(people[role]).status_code == 302, role
        page = client.get("/account/password" if role != "anonymous" else "/login")
        world.tokens[role] = csrf_from(page.get_data(as_text=True))
        cookie = client.get_cookie("session")
        world.cookies[role] = cookie.value if cookie else None
    return world


def _as_found(world: World) -> None:
    """Undo what a request may have done to the logins: a POST to /logout, a deactivation."""
    db.session.rollback()
    db.session.execute(update(User).where(User.id.in_(world.user_ids)).values(active=True))
    db.session.execute(update(LoginSession).where(LoginSession.user_id.in_(world.user_ids))
                       .values(ended_at=None, end_reason=None))
    db.session.commit()
    db.session.expire_all()


@pytest.fixture(scope="module")
def world(app):
    with app.app_context():
        built = _build(app)
    yield built
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(app, world):
    """Replaces conftest's: the world lasts for every route in this file (built once, emptied
    at the end), and each test runs in an app context as the others do."""
    with app.app_context():
        yield
        db.session.remove()


def send(app, world: World, role: str, route: Route, url: str, form: dict | None):
    """One request as `role`, its body read to the end (a stream that fails mid-way fails
    here); an exception or a 5xx is the failure this file looks for."""
    client = app.test_client()
    if world.cookies[role]:
        client.set_cookie("session", world.cookies[role])
    data = None
    if form is not None:
        data = {**form, "csrf_token": world.tokens[role]}
        if "file" in form:  # a fresh stream for each role
            data["file"] = (io.BytesIO(form["file"][0].getvalue()), form["file"][1])
    try:
        response = client.open(url, method=route.method, data=data, buffered=True)
    except Exception as exc:
        db.session.rollback()
        raise AssertionError(f"{route.method} {url!r} as {role}, form {form!r}: "
                             f"{type(exc).__name__}: {exc}") from exc
    where = f"{route.method} {url!r} as {role}, form {form!r}"
    assert response.status_code < 500, f"{where}: {response.status_code}"
    # A CSV download cannot become a 500 once it has begun: an error part-way is its last row.
    # Downloads may be binary (the data-export zip): look for the marker in the bytes.
    assert INCOMPLETE.encode() not in response.get_data(), f"{where}: CSV incomplete"


#: Each route with real values in its path (so the view reads the query and the form), and
#: each route with variables in its path again with hostile ones there.
CASES = [pytest.param(route, path, id=f"{route} {path} path" if route.arguments else str(route))
         for route in ROUTES for path in ("real", "hostile")
         if path == "real" or route.arguments]


@pytest.mark.parametrize(("route", "path"), CASES)
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck), print_blob=False)
@given(data=st.data())
def test_no_request_gives_a_500(app, world, route, path, data):
    url, form = data.draw(requests(route, world, path), label="request")
    _as_found(world)
    for role in ROLES:
        send(app, world, role, route, url, form)


def test_every_route_is_driven(app):
    """The routes above are the app's: a new route is driven without editing this file."""
    assert routes_of(app) == ROUTES
    assert len(ROUTES) > 80
