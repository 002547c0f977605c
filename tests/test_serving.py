"""deploy/gunicorn.conf.py: workers from the cores, settings from the environment, and a real
gunicorn serving the app with it (health check, request log, /metrics across workers)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from learning import create_app
from learning.core.extensions import db
from tests.conftest import COURSE_CONTENT, COURSE_QUIZZES, fixture_settings, stamp_head
from tests.test_startup import _free_port, empty_database  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "gunicorn.conf.py"
BIN = Path(sys.executable).parent
TOKEN = "metrics-token-for-the-tests-0123456789"


def _load_conf(monkeypatch, **environ):
    for name in ("WEB_CONCURRENCY", "BIND", "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT",
                 "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONF)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workers_come_from_the_cores_unless_web_concurrency_says(monkeypatch):
    conf = _load_conf(monkeypatch)
    assert conf.workers_for(1, {}) == 3
    assert conf.workers_for(2, {}) == 5
    assert conf.workers_for(8, {}) == 17
    assert conf.workers_for(4, {"WEB_CONCURRENCY": "2"}) == 2
    assert conf.workers_for(4, {"WEB_CONCURRENCY": " "}) == 9
    assert conf.workers == 2 * conf.cpu_count() + 1
    assert 1 <= conf.cpu_count() <= (os.cpu_count() or 1)
    assert _load_conf(monkeypatch, WEB_CONCURRENCY="3").workers == 3
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
            conf.workers_for(2, {"WEB_CONCURRENCY": bad})


def test_the_other_settings_and_their_overrides(monkeypatch):
    conf = _load_conf(monkeypatch)
    assert conf.bind == ["127.0.0.1:8000"]  # never every address unless told
    assert (conf.timeout, conf.graceful_timeout, conf.preload_app) == (30, 30, False)
    assert conf.accesslog is None and conf.errorlog == "-"
    assert conf.control_socket_disable is True
    assert (conf.forwarded_allow_ips, conf.secure_scheme_headers) == ("", {})
    conf = _load_conf(monkeypatch, BIND="unix:/run/joined-up.sock, 127.0.0.1:9000",
                      GUNICORN_TIMEOUT="60", GUNICORN_GRACEFUL_TIMEOUT="90")
    assert conf.bind == ["unix:/run/joined-up.sock", "127.0.0.1:9000"]
    assert (conf.timeout, conf.graceful_timeout) == (60, 90)


def test_the_metrics_folder_is_made_emptied_and_removed(monkeypatch, tmp_path):
    """With METRICS_TOKEN and no PROMETHEUS_MULTIPROC_DIR, the config file makes a private
    folder for the workers' counts; a start empties it of old counts; the exit removes it."""
    for name in ("PROMETHEUS_MULTIPROC_DIR", "JOINED_UP_MADE_METRICS_DIR"):
        monkeypatch.setenv(name, "")  # so that the test's end puts back what was there
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    conf = _load_conf(monkeypatch, METRICS_TOKEN=TOKEN)
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert folder.parent == tmp_path and folder.name.startswith("joined-up-metrics-")
    (folder / "counter_12345.db").write_bytes(b"old counts")
    (folder / "notes.txt").write_text("not ours")
    conf.on_starting(None)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    conf.on_exit(None)
    assert not folder.exists()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    assert _load_conf(monkeypatch).workers  # without a token: no folder
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR", "") == ""


def _get(url: str, **headers) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (local)
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def _env(database: str, **more) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("FLASK_", "GUNICORN", "PROMETHEUS")) and name not in (
               "SECRET_KEY", "REDIS_URL", "DATABASE_URL", "WEB_CONCURRENCY", "BIND",
               "METRICS_TOKEN", "APP_ENV")}
    env.update(APP_ENV="production", SECRET_KEY="k" * 32, DATABASE_URL=database,
               CONTENT_DIR=str(COURSE_CONTENT), QUIZ_DIR=str(COURSE_QUIZZES), **more)
    return env


def test_gunicorn_serves_with_the_config_file(empty_database, tmp_path):  # noqa: F811
    """Two workers: the health check answers, each request writes its JSON line to stdout,
    and /metrics adds up the requests that both workers answered (whichever answers it)."""
    made = create_app(fixture_settings(empty_database))  # the schema, as db upgrade leaves it
    with made.app_context():
        db.create_all()
        stamp_head(db.engine)
        db.engine.dispose()
    port = _free_port()
    counts = tmp_path / "metrics"  # each worker's counts, in files (prometheus_client)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(CONF), "app:app"], cwd=ROOT, stdout=stdout,
            stderr=stderr, env=_env(empty_database, BIND=f"127.0.0.1:{port}",
                                    WEB_CONCURRENCY="2", METRICS_TOKEN=TOKEN,
                                    PROMETHEUS_MULTIPROC_DIR=str(counts)))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = _get(f"{base}/healthz", **{"X-Request-Id": "probe-0001"})
                break
            except OSError:
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, err.read_text()
                time.sleep(0.2)
        assert (status, json.loads(body)) == (200, {"status": "ok", "reason": "ready"})
        assert headers["X-Request-Id"] == "probe-0001"
        # One worker takes a request that is not finished yet and waits for the rest of it,
        # so the other worker answers the next ones; then the first finishes its own.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as held:
            held.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            time.sleep(0.3)
            for _ in range(20):
                assert _get(f"{base}/healthz")[0] == 200
            held.sendall(b"Connection: close\r\n\r\n")
            assert held.makefile("rb").readline().startswith(b"HTTP/1.1 200")
        assert len(list(counts.glob("counter_*.db"))) == 2  # each worker counted some
        assert _get(f"{base}/metrics")[0] == 401
        status, _, text = _get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        assert ('joinedup_http_requests_total{endpoint="main.healthz",method="GET",'
                'status="200"} 22.0') in text.splitlines()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    assert lines[0]["request_id"] == "probe-0001" and lines[0]["path"] == "/healthz"
    assert {line["status"] for line in lines} == {200, 401}
    log = err.read_text()
    assert "Booting worker" in log and log.count("Booting worker") == 2
    assert "Traceback" not in log
    assert '"GET /healthz' not in log + out.read_text()  # no access log of gunicorn's own


@pytest.mark.parametrize(("unset", "says"), [
    ("", "the database has no schema yet. Run `flask --app app db upgrade` first."),
    ("SECRET_KEY", "SECRET_KEY is not set. In production set SECRET_KEY"),
])
def test_with_the_config_file_start_up_still_refuses(empty_database, unset,  # noqa: F811
                                                     says):
    """No preloading: the worker finds the app unfit and exits with 4, and the master stops
    (exit 4 too: systemd's RestartPreventExitStatus=4) instead of starting more workers."""
    # One worker: when two fail at the same moment, gunicorn's own arbiter can print a
    # traceback of its HaltServer while handling the second exit (seen once in CI).
    env = _env(empty_database, BIND=f"127.0.0.1:{_free_port()}", WEB_CONCURRENCY="1")
    env.pop(unset, None)
    done = subprocess.run([str(BIN / "gunicorn"), "-c", str(CONF), "app:app"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 4, done.stderr
    assert f"Joined Up cannot start: {says}" in done.stderr
    assert "Traceback" not in done.stderr
