"""Notifications: in the app always, by email through the outbox when mail is configured."""

import smtplib

from sqlalchemy import func, select

from learning.core.extensions import db
from learning.core.jobs import Job
from learning.people.models import Notification
from learning.people.notifications import notify
from tests.conftest import FakeSMTP, post_form


def test_email_is_queued_with_the_action_and_sent_by_the_worker(app, make_user,
                                                                 deliver_outbox):
    user = make_user("learner", email="amira@example.org")
    notify(user, "feedback", "Feedback on your answer is ready.", "/tasks/x/feedback")
    db.session.commit()
    job = db.session.scalar(select(Job))
    assert (job.kind, job.status, job.payload["to"]) == ("email", "pending", "amira@example.org")
    sent = deliver_outbox()
    assert len(sent) == 1
    message = sent[0]
    assert message["To"] == "amira@example.org"
    assert "/tasks/x/feedback" in message.get_content()
    db.session.refresh(job)
    assert (job.status, job.attempts) == ("done", 1)
    assert deliver_outbox() == []  # sent once


def test_no_email_when_the_action_rolls_back(app, make_user, deliver_outbox):
    user = make_user("learner")
    notify(user, "feedback", "Ready.", "/x")
    db.session.rollback()
    assert deliver_outbox() == []
    assert db.session.scalar(select(func.count(Job.id))) == 0


def test_mail_failure_keeps_the_in_app_notification(app, make_user, deliver_outbox,
                                                    monkeypatch):
    class Broken(FakeSMTP):
        def send_message(self, message):
            raise smtplib.SMTPException("relay refused")

    user = make_user("learner")
    notify(user, "feedback", "Ready.", "/x")
    db.session.commit()
    monkeypatch.setattr(smtplib, "SMTP", Broken)
    deliver_outbox()
    assert db.session.query(Notification).filter_by(user_id=user.id).count() == 1
    job = db.session.scalar(select(Job))
    assert job.status == "pending" and "relay refused" in job.last_error


def test_no_email_without_mail_server(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setattr(smtplib, "SMTP", None)  # would raise if used
    notify(make_user("learner"), "feedback", "Ready.")
    db.session.commit()
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_notification_page_and_mark_read(client, auth, make_user):
    user = make_user("learner")
    notify(user, "feedback", "Feedback on 'Explaining partnership working' is ready.", "/x")
    db.session.commit()
    auth.login(user)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Notifications <span class=\"count\">(1" in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "Explaining partnership working" in listing and "New: " in listing
    post_form(client, "/notifications/", "/notifications/read")
    after = client.get("/dashboard").get_data(as_text=True)
    assert "Notifications <span class=\"count\">" not in after


def test_line_breaks_in_names_and_titles_never_reach_an_email_header(app, make_user,
                                                                     deliver_outbox, monkeypatch):
    """A learner's name or a task's title with a line break once failed the action that
    sent the email (Python refuses such a header); a header of its own must never start."""
    from email import message_from_bytes

    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Joined Up\n<noreply@example.org>")
    assessor = make_user("assessor")
    for name in ("Sam\r\nBcc: thief@example.test", "Sam\nBcc: thief@example.test",
                 "Sam\u2028Bcc: thief@example.test", "Sam\x0bBcc:\x85thief@example.test"):
        notify(assessor, "submission", f"{name} submitted 'Task\rtitle'.", "/marking/1")
    sent = deliver_outbox()
    assert len(sent) == 4
    for message in sent:
        parsed = message_from_bytes(message.as_bytes())
        assert parsed["Bcc"] is None
        assert set(parsed.keys()) == {"From", "To", "Subject", "Content-Type",
                                      "Content-Transfer-Encoding", "MIME-Version"}
        assert parsed["Subject"].startswith("Joined Up: Sam Bcc: thief@example.test submitted")
        assert parsed["From"] == "Joined Up <noreply@example.org>"
