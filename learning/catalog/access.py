"""Reach the loaded catalog from inside a request."""

from flask import current_app

from learning.catalog.content import Catalog


def get_catalog() -> Catalog:
    return current_app.extensions["catalog"]
