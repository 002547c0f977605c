"""Forms for quizzes: the start and submit buttons (answers are read per question type)."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class StartForm(FlaskForm):
    submit = SubmitField("Start attempt")


class SubmitAttemptForm(FlaskForm):
    submit = SubmitField("Submit all and finish")
