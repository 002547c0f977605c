"""Forms for running cohorts: details, people, moving a learner, and target dates."""

from __future__ import annotations

import datetime as dt
import re

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import TextInput

from learning.core.names import PlainName

#: Dates outside these years are almost certainly typing slips (0226 for 2026).
_YEARS = (2000, 2100)
_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
_MONTHS = {name: n for n, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")), 1) for name in names}
#: "31 July 2027", "31st Jul 2027", "Saturday, 31 July 2027": dates as people write them.
_WORDS = re.compile(r"(?:[a-z]+day,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})")


def parse_typed_date(text: str) -> dt.date | None:
    """A date typed the UK way (1/9/2026, 2026-09-01, 1 September 2026), or None."""
    text = " ".join(text.split()).lower()
    for fmt in _FORMATS:
        try:
            value = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return value if _YEARS[0] <= value.year <= _YEARS[1] else None
    words = _WORDS.fullmatch(text)
    if words and words.group(2) in _MONTHS:
        try:
            value = dt.date(int(words.group(3)), _MONTHS[words.group(2)], int(words.group(1)))
        except ValueError:
            return None
        return value if _YEARS[0] <= value.year <= _YEARS[1] else None
    return None


class UKDateField(Field):
    """A text box for a date typed the UK way (1/9/2026; 1 September 2026 and 2026-09-01
    work too).

    A text box, not <input type="date">: browsers' date pickers are hard to use with some
    assistive technology and silently drop what they cannot parse, so errors go unexplained.

    Blank is None (validators decide whether that is allowed); anything else that is not a real
    date gets `invalid` as its message, e.g. "Enter the start date as a real date...".
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, invalid: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid = invalid or "Enter a real date, for example 1/9/2026."

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data.day}/{self.data.month}/{self.data.year}" if self.data else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        self.data = parse_typed_date(text)
        if self.data is None:
            raise ValueError(self.invalid)

    def pre_validate(self, form) -> None:
        # A bad entry has its message already: don't add "Enter a date" on top of it.
        if self.process_errors:
            raise StopValidation()


#: ASCII digits only: str.isdigit() also admits "²", which int() refuses.
_DIGITS = re.compile(r"[0-9]{1,9}")
#: The three boxes' names and labels, in the order they are shown (day, month, year: the UK way).
DATE_PARTS = (("day", "Day"), ("month", "Month"), ("year", "Year"))


def parts_to_date(day: str, month: str, year: str, what: str) -> tuple[dt.date | None, str, str]:
    """A date from the GOV.UK day / month / year boxes: (date, error, the box to point at).

    All blank is (None, "", "") so a required-field validator can say "Enter the ...". The
    messages follow the GOV.UK date input pattern; a month may be written as a word ("July").
    """
    given = {"day": day.strip(), "month": month.strip().lower().rstrip("."),
             "year": year.strip()}
    if not any(given.values()):
        return None, "", ""
    missing = [name for name, _ in DATE_PARTS if not given[name]]
    if missing:
        words = " and a ".join(missing)
        return None, f"{what} must include a {words}.", missing[0]
    month = given["month"]
    month_number = _MONTHS.get(month) or (int(month) if _DIGITS.fullmatch(month) else 0)
    if not _DIGITS.fullmatch(given["day"]):
        return None, f"{what} must be a real date: the day should be a number.", "day"
    if not month_number:
        return None, f"{what} must be a real date: write the month as a number or a word, " \
                     f"for example 7 or July.", "month"
    if not _DIGITS.fullmatch(given["year"]) or len(given["year"]) != 4:
        return None, f"{what}: the year must include 4 numbers, for example 2027.", "year"
    try:
        value = dt.date(int(given["year"]), month_number, int(given["day"]))
    except (ValueError, OverflowError):  # 31 February; a 40-digit day
        return None, f"{what} must be a real date: that day does not exist in that month.", "day"
    if not _YEARS[0] <= value.year <= _YEARS[1]:
        return None, f"{what}: the year must be between {_YEARS[0]} and {_YEARS[1]}.", "year"
    return value, "", ""


class DateInputField(UKDateField):
    """The GOV.UK date input: three boxes (day, month, year), rendered by the `date_input`
    macro. A date posted as one typed value under the field's own name ("31 July 2027", as
    from a script or an older form) is read the way UKDateField reads it."""

    def __init__(self, label=None, validators=None, what: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what or str(label)
        #: The box the error summary links to (GOV.UK: the first box with the problem).
        self.error_part = "day"
        self.date_parts = DATE_PARTS
        self.parts: dict[str, str] = {}

    def part_id(self, part: str) -> str:
        # The day box carries the field's own id, so "#starts_on" lands on a box.
        return self.id if part == "day" else f"{self.id}-{part}"

    @property
    def error_anchor(self) -> str:
        return self.part_id(self.error_part)

    def part_value(self, part: str) -> str:
        if self.parts:
            return self.parts.get(part, "")
        if isinstance(self.data, dt.date):
            return str({"day": self.data.day, "month": self.data.month,
                        "year": self.data.year}[part])
        return ""

    def process(self, formdata, data=unset_value, extra_filters=None):
        names = [f"{self.name}-{part}" for part, _ in DATE_PARTS]
        if formdata is not None and any(name in formdata for name in names):
            self.parts = {part: formdata.get(f"{self.name}-{part}", "")[:40]
                          for part, _ in DATE_PARTS}
            self.process_errors = []
            self.raw_data = [" ".join(self.parts.values())]
            self.data, error, part = parts_to_date(self.parts["day"], self.parts["month"],
                                                   self.parts["year"], self.what)
            if error:
                self.error_part = part
                self.process_errors.append(error)
            self.object_data = data
            return
        super().process(formdata, data=data, extra_filters=extra_filters)


class CohortForm(FlaskForm):
    """Create or edit a cohort; `unit_id` and `centre_id` choices are set by the view."""

    name = StringField("Cohort name", description="For example: Level 3 Tuesday evening, "
                       "September 2026. Each cohort needs its own name.",
                       validators=[InputRequired("Enter a name for the cohort."),
                                   Length(max=120, message="Keep the name to 120 characters "
                                          "or fewer."), PlainName()])
    starts_on = DateInputField("Start date", description="For example, 1 9 2026.",
                               what="The start date",
                               validators=[DataRequired("Enter the start date.")],
                               invalid="Enter the start date as a real date, for example "
                                       "1/9/2026.")
    ends_on = DateInputField("End date", description="For example, 31 7 2027. The same as or "
                             "after the start date.", what="The end date",
                             validators=[DataRequired("Enter the end date.")],
                             invalid="Enter the end date as a real date, for example "
                                     "31/7/2027.")
    unit_id = SelectField("Qualification unit", description="Learners see this unit's "
                          "assessment criteria.", validate_choice=False,
                          validators=[InputRequired("Choose the qualification unit the cohort "
                                                    "studies.")])
    centre_id = SelectField("Centre", validate_choice=False)

    def validate_name(self, field) -> None:
        field.data = (field.data or "").strip()
        if not field.data:
            raise StopValidation("Enter a name for the cohort.")

    def validate_ends_on(self, field) -> None:
        start = self.starts_on.data
        if field.data and start and field.data < start:
            raise ValidationError(f"The end date must be the same as or after the start date "
                                  f"({start.day} {start:%B %Y}).")

    def set_choices(self, units, centres, allow_no_centre: bool) -> None:
        """Units from the catalog; centres the person manages (admins may pick none)."""
        self.unit_id.choices = [("", "Choose a unit")] + [
            (u.id, f"{u.code}: {u.title}") for u in units]
        self.centre_id.choices = [("", "No centre" if allow_no_centre else "Choose a centre")] + [
            (str(c.id), c.name) for c in centres]
        self._units = {u.id for u in units}
        self._centres = {str(c.id) for c in centres} | ({""} if allow_no_centre else set())

    def validate_unit_id(self, field) -> None:
        if field.data not in self._units:
            raise ValidationError("Choose the qualification unit the cohort studies.")

    def validate_centre_id(self, field) -> None:
        field.data = field.data or ""
        if field.data not in self._centres:
            raise ValidationError("Choose the centre that runs the cohort.")


class EnrolForm(FlaskForm):
    email = StringField("Learner's email address", description="The learner must already "
                        "have an account.",
                        validators=[InputRequired("Enter the learner's email address."),
                                    Length(max=254)],
                        render_kw={"autocomplete": "off", "spellcheck": "false",
                                   "type": "email"})

    #: Asked only when the learner is in another cohort already (see admin.AlreadyElsewhere).
    choice = RadioField("What should happen?", choices=[
        SelectChoice("move", "Move them here (they leave their other cohort; their work comes "
                     "with them)"),
        SelectChoice("add", "Add them to this cohort as well")], validate_choice=False,
        validators=[Optional()])

    def validate_email(self, field) -> None:
        field.data = (field.data or "").strip().lower()
        if "@" not in field.data:
            raise ValidationError("Enter an email address like name@example.com.")


class PersonForm(FlaskForm):
    """Pick a person from a list (an assessor or an IQA); choices are set by the view."""

    user_id = SelectField("Person", validate_choice=False)

    def validate_user_id(self, field) -> None:
        if not field.data or field.data not in {value for value, _ in field.choices}:
            raise ValidationError(self.choose_message)

    choose_message = "Choose a person from the list."


class MoveForm(FlaskForm):
    target = SelectField("Move to", validate_choice=False)

    def validate_target(self, field) -> None:
        if not field.data or field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose the cohort to move them to.")


class ActionForm(FlaskForm):
    """A button that changes something (archive, remove, unassign): only a CSRF token."""


class DeadlinesForm(FlaskForm):
    """One optional date per module, quiz and task; built per catalog by `deadlines_form`."""

    #: field name -> (kind, slug)
    item_keys: dict[str, tuple[str, str]] = {}
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name in self.item_keys:
            f = self[name]
            if f.errors or f.data is None:
                continue
            if self.starts_on and f.data < self.starts_on:
                f.errors.append(f"{f.label.text}: the date must be on or after the cohort's "
                                f"start date ({_uk(self.starts_on)}).")
                ok = False
            elif self.ends_on and f.data > self.ends_on:
                f.errors.append(f"{f.label.text}: the date must be on or before the cohort's "
                                f"end date ({_uk(self.ends_on)}).")
                ok = False
        return ok


def _uk(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def field_name(kind: str, slug: str) -> str:
    return f"{kind}-{slug}"


def deadlines_form(items, starts_on: dt.date | None, ends_on: dt.date | None, **kwargs):
    """A DeadlinesForm with one date field per item (learning.cohorts.items.Item), labelled
    with its full title; blank means no deadline."""
    fields = {}
    keys = {}
    for item in items:
        name = field_name(item.kind, item.slug)
        keys[name] = item.key
        fields[name] = UKDateField(item.full_title, invalid=f"{item.full_title}: enter a real "
                                   "date, for example 14/11/2026, or leave it blank.")
    form_class = type("CohortDeadlinesForm", (DeadlinesForm,),
                      {**fields, "item_keys": keys, "starts_on": starts_on,
                       "ends_on": ends_on})
    return form_class(**kwargs)
