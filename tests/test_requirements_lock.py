"""The lock files agree with the requirement lists they are made from (`make lock`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name -> version for each `name==version` line, following `-r other.txt`."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-r "):
            found |= pins(path.parent / line[3:].strip())
        elif m := PIN.match(line):
            found[canonical(m[1])] = m[2]
    return found


@pytest.mark.parametrize(("listed", "locked"), [
    ("requirements.txt", "requirements.lock"),
    ("requirements-full.txt", "requirements-full.lock"),
    ("requirements-dev.txt", "requirements-dev.lock"),
])
def test_every_pin_is_locked_at_its_version(listed: str, locked: str) -> None:
    have = pins(ROOT / locked)
    stale = {name: (version, have.get(name))
             for name, version in pins(ROOT / listed).items() if have.get(name) != version}
    assert not stale, f"{locked} is out of date, (pin, locked): {stale}; run `make lock`"


@pytest.mark.parametrize("run", ["requirements.lock", "requirements-full.lock"])
def test_run_and_test_install_the_same_versions(run: str) -> None:
    runtime, dev = pins(ROOT / run), pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
