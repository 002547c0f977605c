"""Flask-WTF forms, one file per area."""
