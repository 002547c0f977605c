"""The confirmation an administrator gives before erasing a learner's personal data."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class EraseForm(FlaskForm):
    confirm = StringField(
        "Type the learner's email address to confirm",
        description="Erasure cannot be undone, so it needs the address typed out in full.",
        validators=[DataRequired("Type the learner's email address to confirm."),
                    Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
