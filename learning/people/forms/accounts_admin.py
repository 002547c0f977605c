"""Forms for adding a person and running centres from the admin pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from learning.people.models import Role

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]


class NewPersonForm(FlaskForm):
    name = StringField("Full name", validators=[InputRequired("Enter the person's full name."),
                                                Length(max=120)])
    email = StringField("Email address", description="They get a link to set their own "
                        "password; nobody else ever knows it.",
                        validators=[InputRequired("Enter the person's email address."),
                                    Length(max=254)],
                        render_kw={"autocomplete": "off", "spellcheck": "false",
                                   "type": "email"})
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, widget=ListWidget(
        prefix_label=False), option_widget=CheckboxInput(), description=(
        "Coordinators also need a centre, and assessors and IQAs a cohort, before they see "
        "anyone's work."))
    centres = SelectMultipleField("Centres", coerce=int, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput(), description=(
        "Optional. Coordinators manage the cohorts of their centres; staff in a centre can be "
        "picked by its coordinators."))
    submit = SubmitField("Add person")

    def validate_roles(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one role.")

    def validate_email(self, field) -> None:
        field.data = (field.data or "").strip().lower()
        if "@" not in field.data or " " in field.data:
            raise ValidationError("Enter an email address like name@example.org.")


class CentreForm(FlaskForm):
    name = StringField("Centre name", validators=[
        InputRequired("Enter the centre's name."), Length(max=120)])
    submit = SubmitField("Add centre")


class RenameCentreForm(FlaskForm):
    name = StringField("New name", validators=[
        InputRequired("Enter the centre's new name."), Length(max=120)])
    submit = SubmitField("Rename")
