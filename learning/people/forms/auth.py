"""Forms for logging in, registering and changing a password."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from learning.core.names import PlainName
from learning.people.accounts import MIN_PASSWORD_LENGTH
from learning.people.passwords import HELP as _PW_HELP


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")],
                       render_kw={"autocomplete": "email", "spellcheck": "false"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me logged in on this device")
    submit = SubmitField("Log in")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[DataRequired("Enter your current password.")],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("New password", description=_PW_HELP, validators=[
        DataRequired("Enter a new password."),
        Length(min=MIN_PASSWORD_LENGTH,
               message=f"Your new password must be at least {MIN_PASSWORD_LENGTH} characters."),
    ], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirm new password", validators=[
        DataRequired("Enter your new password again."),
        EqualTo("new", message="The two new passwords do not match."),
    ], render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Change password")


class RegisterForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter your full name."),
                                                Length(max=120), PlainName()],
                       render_kw={"autocomplete": "name"})
    email = EmailField("Email address", validators=[
        DataRequired("Enter your email address."),
        Email("Enter an email address in the right format, like name@example.com."),
    ], render_kw={"autocomplete": "email", "spellcheck": "false"})
    password = PasswordField("Password", description=_PW_HELP, validators=[
        DataRequired("Enter a password."),
        Length(min=MIN_PASSWORD_LENGTH,
               message=f"Your password must be at least {MIN_PASSWORD_LENGTH} characters."),
    ], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirm password", validators=[
        DataRequired("Enter your password again."),
        EqualTo("password", message="The two passwords do not match."),
    ], render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Create account")
