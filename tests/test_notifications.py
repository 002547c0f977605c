"""Notifications: in the app always, by SMTP when configured, never failing the action."""

import smtplib

from learning.core.extensions import db
from learning.people.models import Notification
from learning.people.notifications import notify
from tests.conftest import post_form


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        FakeSMTP.sent.append(message)


def test_email_sent_when_mail_is_configured(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    user = make_user("learner", email="amira@example.org")
    notify(user, "feedback", "Feedback on your answer is ready.", "/tasks/x/feedback")
    db.session.commit()
    assert len(FakeSMTP.sent) == 1
    message = FakeSMTP.sent[0]
    assert message["To"] == "amira@example.org"
    assert "/tasks/x/feedback" in message.get_content()


def test_mail_failure_keeps_the_in_app_notification(app, make_user, monkeypatch):
    class Broken(FakeSMTP):
        def send_message(self, message):
            raise smtplib.SMTPException("relay refused")

    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setattr(smtplib, "SMTP", Broken)
    user = make_user("learner")
    notify(user, "feedback", "Ready.", "/x")
    db.session.commit()
    assert db.session.query(Notification).filter_by(user_id=user.id).count() == 1


def test_no_email_without_mail_server(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setattr(smtplib, "SMTP", None)  # would raise if used
    notify(make_user("learner"), "feedback", "Ready.")
    db.session.commit()


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
                                                                     monkeypatch):
    """A learner's name or a task's title with a line break once failed the action that
    sent the email (Python refuses such a header); a header of its own must never start."""
    from email import message_from_bytes

    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Joined Up\n<noreply@example.org>")
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    assessor = make_user("assessor")
    for name in ("Sam\r\nBcc: thief@example.test", "Sam\nBcc: thief@example.test",
                 "Sam\u2028Bcc: thief@example.test", "Sam\x0bBcc:\x85thief@example.test"):
        notify(assessor, "submission", f"{name} submitted 'Task\rtitle'.", "/marking/1")
    db.session.commit()
    assert len(FakeSMTP.sent) == 4
    for message in FakeSMTP.sent:
        parsed = message_from_bytes(message.as_bytes())
        assert parsed["Bcc"] is None
        assert set(parsed.keys()) == {"From", "To", "Subject", "Content-Type",
                                      "Content-Transfer-Encoding", "MIME-Version"}
        assert parsed["Subject"].startswith("Joined Up: Sam Bcc: thief@example.test submitted")
        assert parsed["From"] == "Joined Up <noreply@example.org>"
