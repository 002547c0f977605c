"""The outbox: what queuing an email costs an action, and how fast workers send.

Three figures:

1. notify() + commit with mail on: the median time an action spends on its email now that
   it only writes a row (the mail server is one that never answers, as in issue #11).
2. Sending: N emails through a local SMTP sink that answers at once, by 1 and by 2 workers
   (threads, each with its own database session), emails a second; each sent exactly once.
3. A worker against a server that never answers: seconds per attempt (MAIL_TIMEOUT bounds it).

    .venv/bin/python bench/outbox.py [--emails 500] [--database-url URL]

The database is a throwaway SQLite file unless --database-url names an (empty) database.
"""

from __future__ import annotations

import argparse
import socket
import socketserver
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Sink(socketserver.StreamRequestHandler):
    """Just enough SMTP to take a message: every command gets its success reply at once."""

    received = 0
    lock = threading.Lock()

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        in_data = False
        for line in self.rfile:
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    with _Sink.lock:
                        _Sink.received += 1
                    self.wfile.write(b"250 queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif verb == b"EHLO":
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")


def _silent_server() -> tuple[socket.socket, int]:
    listener = socket.create_server(("127.0.0.1", 0))
    held: list = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in iter(int, 1)],
                     daemon=True).start()
    return listener, listener.getsockname()[1]


def _app(database_url: str, **config):
    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db

    app = create_app(settings_for_tests(database_url, **config))
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _learners(n: int) -> list[int]:
    from learning.core.extensions import db
    from learning.people.models import User, UserRole

    users = [User(email=f"learner{i}@example.test", name=f"Learner {i}") for i in range(n)]
    for user in users:
        user.roles = [UserRole(role="learner")]
    db.session.add_all(users)
    db.session.commit()
    return [u.id for u in users]


def _queue(ids: list[int]) -> list[float]:
    """notify() + commit for each learner; the time each took."""
    from learning.core.extensions import db
    from learning.people.models import User
    from learning.people.notifications import notify

    times = []
    for user_id in ids:
        user = db.session.get_one(User, user_id)
        start = time.perf_counter()
        notify(user, "feedback", "Feedback on 'Explaining partnership working' is ready.",
               "/tasks/x/feedback")
        db.session.commit()
        times.append(time.perf_counter() - start)
    return times


def _clear() -> None:
    from learning.core.extensions import db
    from learning.core.jobs import Job

    db.session.query(Job).delete()
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    from learning.core import worker

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    silent, silent_port = _silent_server()
    sink = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Sink)
    sink.daemon_threads = True
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    app = _app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=silent_port, MAIL_TIMEOUT=2)
    print(f"database: {url.split('://')[0]}, {args.emails} emails")
    with app.app_context():
        ids = _learners(args.emails)
        times = _queue(ids[:200])
        print(f"1. notify + commit, mail server never answers: median "
              f"{statistics.median(times) * 1000:.2f} ms, max {max(times) * 1000:.2f} ms "
              f"({len(times)} actions)")
        _clear()
        app.config["MAIL_PORT"] = sink.server_address[1]
        for workers in (1, 2):
            _Sink.received = 0
            _queue(ids)
            start = time.perf_counter()
            threads = [threading.Thread(target=worker.run_pending, args=(app,))
                       for _ in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            took = time.perf_counter() - start
            print(f"2. {workers} worker{'s' if workers > 1 else ''}: {_Sink.received} emails "
                  f"sent in {took:.2f} s, {_Sink.received / took:.0f} a second "
                  f"({'each once' if _Sink.received == len(ids) else 'NOT each once'})")
            _clear()
        app.config["MAIL_PORT"] = silent_port
        _queue(ids[:3])
        start = time.perf_counter()
        counts = worker.run_pending(app)
        took = time.perf_counter() - start
        print(f"3. silent server, MAIL_TIMEOUT=2: {counts.retry} attempts failed in "
              f"{took:.1f} s ({took / max(counts.total, 1):.1f} s each), to be retried")
    silent.close()
    sink.shutdown()


if __name__ == "__main__":
    main()
