"""Flask extensions, created unbound and bound to the app in create_app."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic migrations are stable and work with SQLite batch mode.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Objects keep their values after a commit instead of reloading each one on next use: a
# request that writes (a visit, a saved answer) would otherwise read the user and their roles
# again after every commit. Every request has its own session, so nothing is kept longer
# than the request that read it.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# Models subclass `Model`, which is `db.Model` at run time. A type checker cannot use an
# attribute (`db.Model`) as a base class (mypy#8603), so it sees the declarative base that
# `db.Model` is built from, which types the columns the same way.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
