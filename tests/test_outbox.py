"""The outbox: an action stores its email with itself, and a worker sends it later."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.assessment.models import Submission
from learning.core.extensions import db
from tests.conftest import post_form


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


def test_a_mail_server_that_never_answers_does_not_hold_up_a_submission(
        app, client, auth, make_user, make_cohort, task, silent_smtp, monkeypatch):
    """Once a submission waited for the mail server inside its transaction: killed by
    gunicorn's timeout on PostgreSQL, holding SQLite's write lock for everyone else."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", silent_smtp.port)
    learner = make_user("learner", name="Maya Patel")
    make_cohort(learners=[learner], assessors=[make_user("assessor")])
    auth.login(learner)
    post_form(client, f"/tasks/{task.slug}", data={"text": "Agencies share what they know.",
                                                   "based_on": "", "save": "1"})
    response = post_form(client, f"/tasks/{task.slug}/submit",
                         data={"declaration": "y", "sources": ""})
    assert response.status_code == 302
    assert db.session.scalar(select(Submission.status)) == "submitted"
    assert silent_smtp.connections == 0, "the request itself talked to the mail server"
