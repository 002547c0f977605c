"""Login: how long a failed login takes per kind of account, and password checks under a burst.

Two figures, with the real password hashing (scrypt, as in production):

1. The median time of a wrong-password login for a normal account, an invited account with
   no password yet, a deactivated account and an unknown address. They should all be alike:
   a difference tells an attacker which kind of account an address has.
2. A burst: 24 threads, all released together, each try a wrong password for one account
   through the login page. It counts how many password checks ran (the throttle should stop
   it at MAX_FAILURES).

    .venv/bin/python bench/login.py [--repeat 15] [--burst 24] [--database-url URL]

The database is a throwaway SQLite file unless --database-url names an (empty) database.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WRONG = "not-the-password-at-all"


def _app(database_url: str):
    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db

    app = create_app(settings_for_tests(database_url, WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _accounts(repeat: int) -> dict[str, list[str]]:
    """Create `repeat` accounts of each kind (so no throttle kicks in); kind -> emails."""
    from learning.core.extensions import db
    from learning.people.models import User, UserRole

    def add(email: str, password: str | None, active: bool = True) -> str:
        user = User(email=email, name=email.split("@")[0], active=active)
        if password is not None:
            user.set_password(password)  # the production hash, not the tests' cheap one
        user.roles = [UserRole(role="learner")]
        db.session.add(user)
        return email

    password = "a-real-password-for-bench"
    kinds = {
        "normal": [add(f"normal{i}@bench.example.org", password) for i in range(repeat)],
        "invited (no password yet)": [add(f"invited{i}@bench.example.org", None)
                                      for i in range(repeat)],
        "deactivated": [add(f"inactive{i}@bench.example.org", password, active=False)
                        for i in range(repeat)],
        "unknown address": [f"nobody{i}@bench.example.org" for i in range(repeat)],
    }
    add("burst@bench.example.org", password)
    db.session.commit()
    return kinds


def timings(app, repeat: int) -> None:
    from learning.people import accounts

    with app.app_context():
        kinds = _accounts(repeat)
        print(f"Wrong-password login, median of {repeat} (scrypt hashes):")
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for i in range(repeat):  # interleaved, so a slow moment does not favour one kind
            for kind, emails in kinds.items():
                started = time.perf_counter()
                accounts.authenticate(emails[i], WRONG)
                times[kind].append(time.perf_counter() - started)
        for kind, spent in times.items():
            print(f"  {kind:<26} {statistics.median(spent) * 1000:7.1f} ms")


def _counting_checks():
    """Wrap every check_password_hash the login path can reach; returns (counter, undo)."""
    import werkzeug.security

    import learning.people.accounts as accounts_module
    import learning.people.models as models_module

    real = werkzeug.security.check_password_hash
    count = {"n": 0}
    lock = threading.Lock()

    def counting(pwhash: str, password: str) -> bool:
        with lock:
            count["n"] += 1
        return real(pwhash, password)

    patched = [m for m in (accounts_module, models_module) if hasattr(m, "check_password_hash")]
    for module in patched:
        module.check_password_hash = counting  # type: ignore[attr-defined]

    def undo() -> None:
        for module in patched:
            module.check_password_hash = real  # type: ignore[attr-defined]

    return count, undo


def burst(app, size: int) -> None:
    go = threading.Barrier(size)
    statuses: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        # A different address per thread: the attacker is spread out, so only the
        # per-account rule can stop them.
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.{i // 250}.{i % 250 + 1}"
        token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
        go.wait()
        response = client.post("/login", data={"email": "burst@bench.example.org",
                                               "password": f"{WRONG}-{i}", "csrf_token": token})
        with lock:
            statuses.append(response.status_code)

    count, undo = _counting_checks()
    try:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        undo()
    print(f"Burst of {size} concurrent wrong passwords for one account: "
          f"{count['n']} password checks ran (statuses {sorted(set(statuses))})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--burst", type=int, default=24)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = _app(url)
        timings(app, args.repeat)
        burst(app, args.burst)
        with app.app_context():
            from learning.core.extensions import db

            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
