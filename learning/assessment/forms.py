"""Forms for written answers: the draft editor and the submission declaration."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from learning.assessment.submissions import MAX_TEXT, MAX_TEXT_WORDS, length_problem


def _fits(form, field) -> None:
    """The answer's length limit, as the service counts it. Not wtforms' Length, whose
    maxlength attribute would make the browser cut a long paste short without a word."""
    if problem := length_problem(field.data or ""):
        raise ValidationError(problem)


class DraftForm(FlaskForm):
    text = TextAreaField("Your answer", description=(
        "A blank line starts a new paragraph. Start a line with - for a list. Put two stars "
        "either side of words to make them bold: **like this**. An answer can be at most "
        f"{MAX_TEXT:,} characters (about {MAX_TEXT_WORDS:,} words)."),
        validators=[_fits])
    based_on = HiddenField()
    #: "1" once the learner has seen the warning that the new text is much shorter.
    confirm_shorter = HiddenField()
    #: What the page's script saw since the last save (writing_activity.parse). Never
    #: validated here: bad content is ignored there, and the text saves regardless.
    activity = HiddenField()
    save = SubmitField("Save draft")
    preview = SubmitField("Save and preview")


class SubmitAnswerForm(FlaskForm):
    declaration = BooleanField(
        "I confirm this answer is my own work. Where I have used other people's words or "
        "ideas, I have said so.",
        validators=[DataRequired("Confirm that this is your own work before you submit.")])
    sources = TextAreaField("Sources you used, or how you wrote it (optional)", description=(
        "For example: the course modules, Working Together to Safeguard Children 2023, your "
        "setting's safeguarding policy; or that you wrote it first in a document and pasted "
        "it in. Your assessor reads this beside your writing-process report."),
        validators=[Length(max=5000)])
    #: Asked for only when the answer is shorter than the task's word guidance.
    confirm_short = BooleanField("Submit it anyway: I have checked that it answers everything "
                                 "the task asks")
    submit = SubmitField("Submit for assessment")


class RestoreForm(FlaskForm):
    submit = SubmitField("Restore this version")
