"""Forms for internal quality assurance: the review verdict, sampling plans, picking by hand."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    InputRequired,
    NumberRange,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import TextInput

VERDICTS = (SelectChoice("agree", "Agree with the decision"),
            SelectChoice("disagree", "Disagree with the decision"))
_RATE_MESSAGE = "Enter the sampling rate as a whole number from 0 to 100."


class ReviewForm(FlaskForm):
    # validate_choice is off so an unanswered question gets our message, not "Not a valid choice".
    verdict = RadioField("Your verdict", choices=list(VERDICTS), validate_choice=False, validators=[
        InputRequired("Choose whether you agree or disagree with the assessor's decision."),
        AnyOf([v.value for v in VERDICTS],
              message="Choose whether you agree or disagree with the assessor's decision."),
    ])
    comments = TextAreaField("Comments", description="Your reasons: what you checked and what "
                             "you found. The assessor and other IQAs can read them.")
    action = TextAreaField("Action for the assessor", description="Required if you disagree: "
                           "what the assessor must do. If you agree, anything here is advice.")

    def validate_action(self, field) -> None:
        if self.verdict.data == "disagree" and not (field.data or "").strip():
            raise ValidationError("Say what the assessor must do, because you disagree with "
                                  "the decision.")


class PercentField(IntegerField):
    """A whole-number percentage that reports a bad entry in plain words."""

    # A text box (inputmode numeric): type="number" can silently drop what was typed.
    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip().rstrip("%"))
        except ValueError as exc:
            self.data = None
            raise ValueError(_RATE_MESSAGE) from exc

    def pre_validate(self, form) -> None:
        # Stop here after a bad entry, so the same message is not repeated by the validators.
        if self.process_errors:
            raise StopValidation()


class PlanForm(FlaskForm):
    """One assessor's plan; the page holds one per assessor, told apart by a prefix."""

    rate = PercentField("Percentage of decisions sampled at random",
                        description="A whole number from 0 to 100.",
                        validators=[InputRequired(_RATE_MESSAGE),
                                    NumberRange(0, 100, message=_RATE_MESSAGE)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    new_assessor = BooleanField("New assessor: sample every decision")


class AddToSampleForm(FlaskForm):
    """The "Add to sample" button (only a CSRF token)."""
