"""Locust journeys for bench/journeys.py: learners study, take a quiz and write; assessors mark.

Not for the test suite. bench/journeys.py seeds the accounts and passes what this file needs
in environment variables (BENCH_PASSWORD, BENCH_LEARNERS, BENCH_ASSESSORS, BENCH_MODULES,
BENCH_QUIZ, BENCH_TASK, BENCH_WAIT). Each simulated person logs in once (on start) as an
account of their own, then repeats their journey with a pause of BENCH_WAIT seconds (a range,
"2-5") between steps, as a person reading and typing would.

Learner: dashboard, a module page, the quiz page, Start, the attempt page, an answer saved
(autosave), submit; then the writing task: the page, a draft saved (autosave, growing each
time), and on the second round the submission. Assessor: the marking queue, one piece of
work, and a decision released (every criterion met, with feedback).

Every answer but the expected one counts as a failure. Names group requests by route.
"""

from __future__ import annotations

import itertools
import os
import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT = re.compile(r"/attempts/(\d+)")
RADIO = re.compile(r'name="(q-[A-Za-z0-9_-]+)"[^>]*value="([^"]+)"')
BASED_ON = re.compile(r'name="based_on"[^>]*value="(\d*)"')
WORK = re.compile(r'href="/marking/(\d+)"')
CRITERION = re.compile(r'name="met-([^"]+)"')

PASSWORD = os.environ.get("BENCH_PASSWORD", "")
MODULES = [m for m in os.environ.get("BENCH_MODULES", "").split(",") if m]
QUIZ = os.environ.get("BENCH_QUIZ", "")
TASK = os.environ.get("BENCH_TASK", "")
LOW, HIGH = (float(x) for x in os.environ.get("BENCH_WAIT", "2-5").split("-"))
SENTENCE = ("Partnership working means the nursery, the health visitor and children's social "
            "care share what they know, agree a plan and act on it, so that a child is safe. ")

# One account per simulated person: numbered in the order locust starts them.
_learner_numbers = itertools.count()
_assessor_numbers = itertools.count()


def _log_in(user: HttpUser, email: str) -> str:
    """Log in through the form; the session's CSRF token (the same for every form)."""
    page = user.client.get("/login", name="login page")
    token = CSRF.search(page.text).group(1)
    with user.client.post("/login", data={"email": email, "password": PASSWORD,
                                          "csrf_token": token},
                          name="login", allow_redirects=False, catch_response=True) as r:
        if r.status_code != 302 or "/login" in r.headers.get("Location", "/login"):
            r.failure(f"login refused: {r.status_code}")
    page = user.client.get("/dashboard", name="dashboard")
    return CSRF.search(page.text).group(1) if CSRF.search(page.text) else token


class Learner(HttpUser):
    weight = 19
    wait_time = between(LOW, HIGH)

    def on_start(self) -> None:
        self.number = next(_learner_numbers)
        self.token = _log_in(self, f"learner{self.number}@bench.example.org")
        self.rounds = 0
        self.submitted = False

    def _post(self, path: str, data: dict, name: str, expect: int = 200):
        with self.client.post(path, data={"csrf_token": self.token, **data}, name=name,
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != expect:
                r.failure(f"{r.status_code}: {r.text[:200]}")
            return r

    @task
    def journey(self) -> None:
        self.client.get("/dashboard", name="dashboard")
        self.wait()
        self.client.get(f"/course/{random.choice(MODULES)}", name="module page")
        self.wait()
        page = self.client.get(f"/quizzes/{QUIZ}", name="quiz page")
        self.token = CSRF.search(page.text).group(1)
        self.wait()
        started = self._post(f"/quizzes/{QUIZ}/start", {}, "quiz start", expect=302)
        found = ATTEMPT.search(started.headers.get("Location", ""))
        if found is None:
            return
        attempt = found.group(1)
        page = self.client.get(f"/attempts/{attempt}", name="quiz attempt page")
        answers = dict(RADIO.findall(page.text))
        self.wait()
        self._post(f"/attempts/{attempt}/autosave", answers, "quiz answer (autosave)")
        self.wait()
        self._post(f"/attempts/{attempt}/submit", {}, "quiz submit", expect=302)
        self.client.get(f"/attempts/{attempt}/review", name="quiz review")
        if self.submitted:
            return
        self.wait()
        page = self.client.get(f"/tasks/{TASK}", name="task page")
        based_on = BASED_ON.search(page.text)
        self.rounds += 1
        self.wait()
        self._post(f"/tasks/{TASK}/autosave",
                   {"text": SENTENCE * (3 * self.rounds),
                    "based_on": based_on.group(1) if based_on else ""},
                   "task draft (autosave)")
        if self.rounds >= 2:
            self.wait()
            # The answer is shorter than the word guidance: the learner confirms that.
            self._post(f"/tasks/{TASK}/submit", {"declaration": "y", "sources": "",
                                                   "confirm_short": "y"},
                       "task submit", expect=302)
            self.submitted = True


class Assessor(HttpUser):
    weight = 1
    wait_time = between(LOW, HIGH)

    def on_start(self) -> None:
        self.number = next(_assessor_numbers)
        self.token = _log_in(self, f"assessor{self.number}@bench.example.org")

    @task
    def mark(self) -> None:
        queue = self.client.get("/marking/", name="marking queue")
        waiting = WORK.findall(queue.text)
        if not waiting:
            return
        work = random.choice(waiting)
        self.wait()
        page = self.client.get(f"/marking/{work}", name="marking page")
        token = CSRF.search(page.text)
        criteria = set(CRITERION.findall(page.text))
        if token is None or not criteria:  # decided by another assessor meanwhile
            return
        self.wait()
        data = {f"met-{c}": "met" for c in criteria}
        with self.client.post(f"/marking/{work}",
                              data={"csrf_token": token.group(1), "action": "release",
                                    "feedback": "Clear, with examples for each agency.",
                                    "actions": "", **data},
                              name="mark and release", allow_redirects=False,
                              catch_response=True) as r:
            # Two assessors may pick the same work: the second is told it is decided, or that
            # another decision was released a moment ago (422), which is the app doing its
            # job, not a failure of the server.
            if r.status_code == 422 and ("already been decided" in r.text
                                         or "released a moment ago" in r.text):
                r.success()
            elif r.status_code != 302:
                r.failure(f"{r.status_code}: {r.text[:200]}")
