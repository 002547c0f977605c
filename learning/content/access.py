"""Reach the loaded course catalog from inside a request."""

from flask import current_app

from learning.content.catalog import Catalog


def get_catalog() -> Catalog:
    return current_app.extensions["catalog"]
