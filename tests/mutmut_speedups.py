"""A pytest plugin for `make mutate` only: read content once per process; skip HTML validation.

mutmut runs every mutant in a process forked from one that has already run the tests, and
each run builds the app again; parsing content/ and quizzes/ (YAML and Markdown) was most of
the time a mutant took. None of the mutated modules reads those files, and what is read is
the same every time, so the forked runs share what the first one read.
"""

from __future__ import annotations

from pathlib import Path

import learning

_catalogs: dict = {}
_quizzes: dict = {}
_load_catalog, _load_quizzes = learning.load_catalog, learning.load_quizzes


def _cached_catalog(content_dir: Path):
    key = Path(content_dir).resolve()
    if key not in _catalogs:
        _catalogs[key] = _load_catalog(content_dir)
    return _catalogs[key]


def _cached_quizzes(directory: Path, known_modules: set[str] | None = None):
    key = (Path(directory).resolve(), frozenset(known_modules or ()))
    if key not in _quizzes:
        _quizzes[key] = _load_quizzes(directory, known_modules)
    quizzes, problems = _quizzes[key]
    return dict(quizzes), list(problems)  # tests may replace entries in the app's copy


learning.load_catalog, learning.load_quizzes = _cached_catalog, _cached_quizzes


def pytest_collection_modifyitems(config, items):
    """The Nu HTML Checker tests (Java, half a minute each) check markup, not the decisions
    under mutation: a mutant would run one for every function a page calls. Left out here."""
    kept = [item for item in items if "valid_html" not in item.name]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
