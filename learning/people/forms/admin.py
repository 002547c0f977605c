"""Forms for coordinators and admins: CSV enrolment, people, roles, the audit log and outbox
filters;
and the public set-password form reached from an invitation or reset link."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from learning.people.accounts import MIN_PASSWORD_LENGTH
from learning.people.enrolment_csv import MAX_BYTES
from learning.people.models import Role
from learning.people.passwords import HELP as PASSWORD_HELP

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]


class EnrolUploadForm(FlaskForm):
    file = FileField("CSV file", description=(
        "A CSV UTF-8 file, up to 2 MB and 5,000 learners. The first row is the column "
        "headings: name, email, cohort and, if you have them, learner_ref."), validators=[
        FileRequired("Choose a CSV file to upload."),
        FileAllowed(["csv"], "The file must be a CSV file, with a name ending .csv."),
        FileSize(MAX_BYTES, message="The file must be 2 MB or smaller. Split it into "
                                    "smaller files."),
    ], render_kw={"accept": ".csv,text/csv"})
    submit = SubmitField("Check the file")


class ConfirmImportForm(FlaskForm):
    upload_id = HiddenField()
    submit = SubmitField("Enrol these learners")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""


class PeopleFilterForm(FlaskForm):
    """Filters for the people list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField("Name or email", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice("", "Any role"), *ROLE_CHOICES],
                       validators=[Optional()])
    active = SelectField("Account", choices=[SelectChoice("", "Active or deactivated"),
                                             SelectChoice("yes", "Active"),
                                             SelectChoice("no", "Deactivated")],
                         validators=[Optional()])


class OutboxFilterForm(FlaskForm):
    """Which of the outbox's jobs to show (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    show = SelectField("Show", default="unsent", choices=[
        SelectChoice("unsent", "Waiting or failed"), SelectChoice("failed", "Failed"),
        SelectChoice("waiting", "Waiting"), SelectChoice("done", "Sent")])


class RolesForm(FlaskForm):
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, widget=ListWidget(
        prefix_label=False), option_widget=CheckboxInput(), description=(
        "Coordinators also need a centre, and assessors and IQAs a cohort, before they "
        "see anyone's work."))
    submit = SubmitField("Save roles")

    def validate_roles(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one role.")


class CentresForm(FlaskForm):
    """An administrator moves a person between centres (choices set by the view)."""

    centres = SelectMultipleField("Centres", coerce=int, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput(), description=(
        "A person belongs to the centres ticked here and to those of the cohorts they are in "
        "or staff. Coordinators manage, and pick staff from, their own centres only."))
    save_centres = SubmitField("Save centres")


class UkDateField(DateField):
    """A date box (type=date) whose error says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a real date, for example 2026-11-22.") from None

    def _value(self) -> str:
        # A date box may only hold a real date: leave it empty rather than echo the mistake.
        return "" if self.process_errors else super()._value()


class AuditFilterForm(FlaskForm):
    """Filters for the audit log (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[SelectChoice("", "Any action")],
                         validate_choice=False,
                         validators=[Optional()])
    actor = SearchField("Done by (email)", description="All or part of an email address.",
                        validators=[Optional(), Length(max=254)])
    about = SearchField("About (email)", description="The person the event is about: all or "
                        "part of their email address.", validators=[Optional(), Length(max=254)])
    date_from = UkDateField("From", validators=[Optional()])
    date_to = UkDateField("To", description="Both dates are included.",
                          validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The ‘To’ date must be the same as or after the ‘From’ date.")


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", description=PASSWORD_HELP, validators=[
        DataRequired("Enter a new password."),
        Length(min=MIN_PASSWORD_LENGTH, message=f"Your new password must be at least "
                                                f"{MIN_PASSWORD_LENGTH} characters."),
    ], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirm new password", validators=[
        DataRequired("Enter your new password again."),
        EqualTo("password", message="The two passwords do not match."),
    ], render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Set password")
