"""gunicorn's settings for Joined Up: `gunicorn -c deploy/gunicorn.conf.py app:app`.

Every setting can be changed from the environment (docs/deploy.md "Serving"):
BIND, WEB_CONCURRENCY, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping

#: Where gunicorn listens: behind a proxy on this machine, never on every address by default.
DEFAULT_BIND = "127.0.0.1:8000"
#: Seconds a worker may spend on one request before the master kills and replaces it. Pages
#: take milliseconds; the slowest (a big CSV import, an export) a few seconds.
TIMEOUT = 30
#: Seconds a stopping or reloading worker has to finish the request in hand.
GRACEFUL_TIMEOUT = 30


def _whole(environ: Mapping[str, str], name: str, default: int, least: int = 1) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise SystemExit(f"Joined Up cannot start: {name} must be a whole number of at least "
                         f"{least}, not {raw!r}.")
    return int(raw)


def cpu_count() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than the
    machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_for(cpus: int, environ: Mapping[str, str]) -> int:
    """WEB_CONCURRENCY if set; otherwise two sync workers per core, and one more: a request
    mostly waits on the database, so two per core keep the cores busy (measured on 2 cores
    with SQLite at 500 simulated users: 2 workers gave p95 553 ms, 4 gave 26 ms)."""
    return _whole(environ, "WEB_CONCURRENCY", 2 * max(1, cpus) + 1)


bind = [b.strip() for b in (os.environ.get("BIND") or DEFAULT_BIND).split(",") if b.strip()]
workers = workers_for(cpu_count(), os.environ)
worker_class = "sync"
timeout = _whole(os.environ, "GUNICORN_TIMEOUT", TIMEOUT)
graceful_timeout = _whole(os.environ, "GUNICORN_GRACEFUL_TIMEOUT", GRACEFUL_TIMEOUT)
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open

# No access log: the app writes one line per request itself (learning/core/requestlog.py) with
# more in it (request id, user, duration, SQL statements); gunicorn's would repeat each one.
accesslog = None
errorlog = "-"  # gunicorn's own messages (workers started, killed, timed out) to stderr
loglevel = "info"

# Not preloaded: each worker imports the app itself, so `kill -HUP` (systemctl reload) starts
# workers with the new code and course, and a worker that finds the app unfit to serve (no
# SECRET_KEY, a broken course, a schema behind the code) exits with code 4, on which the
# master stops rather than starting workers that fail the same way for ever.
preload_app = False

# gunicorn 27 would otherwise open a control socket in ~/.gunicorn; nothing here uses it.
control_socket_disable = True

# X-Forwarded-* headers are the app's to believe or not (TRUSTED_PROXY_COUNT, ProxyFix):
# gunicorn believes none, so there is one place that decides.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# /metrics with several workers: each writes its counts to files in one folder, and the
# worker that answers a scrape adds them up (learning/core/metrics.py). A private folder is
# made when none is given, and emptied at each start: old counts would add up wrongly.
_MADE = "JOINED_UP_MADE_METRICS_DIR"  # remembered across a reload, which reads this again
if os.environ.get("METRICS_TOKEN") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_MADE] = tempfile.mkdtemp(
        prefix="joined-up-metrics-")


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if os.environ.get(_MADE):
        shutil.rmtree(os.environ[_MADE], ignore_errors=True)
