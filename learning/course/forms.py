"""Forms on the course pages (buttons that post, so they carry a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class CompletionForm(FlaskForm):
    submit = SubmitField("Mark as complete")


class UndoCompletionForm(FlaskForm):
    submit = SubmitField("Mark as not complete")
