"""/metrics: off unless METRICS_TOKEN is set, then only with the token; counts that move."""

from __future__ import annotations

import pytest

from learning.core import jobs, metrics
from learning.core.config import ConfigError, from_environment
from learning.core.extensions import db

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def scrape(app, client, monkeypatch):
    """scrape() -> {series: value} from /metrics, with the token configured."""
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def read() -> dict[str, float]:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain; version=")
        return _series(response.get_data(as_text=True))

    return read


def _series(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_off_unless_configured(client):
    """Never public by default: as if there were no such page."""
    response = client.get("/metrics")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_the_token_is_required(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 403 and "joinedup_" not in wrong.get_data(as_text=True)
    right = client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert right.status_code == 200 and "joinedup_http_requests_total" in right.get_data(
        as_text=True)


@pytest.mark.parametrize(("authorization", "token", "refused"), [
    (None, "", 404), (f"Bearer {TOKEN}", "", 404), (None, TOKEN, 401), ("Bearer", TOKEN, 401),
    ("Bearer  ", TOKEN, 401), (f"Token {TOKEN}", TOKEN, 401), ("Bearer nope", TOKEN, 403),
    (f"Bearer {TOKEN}", TOKEN, None), (f"BEARER  {TOKEN} ", TOKEN, None),
])
def test_refusal(authorization, token, refused):
    assert metrics.refusal(authorization, token) == refused


def test_request_counts_and_latency_move(client, scrape):
    before = scrape()
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    client.open("/login", method="BREW")  # any word as a method: counted as "other"
    after = scrape()

    def moved(series: str) -> float:
        return after.get(series, 0) - before.get(series, 0)

    assert moved('joinedup_http_requests_total{endpoint="main.healthz",method="GET",'
                 'status="200"}') == 3
    assert moved('joinedup_http_requests_total{endpoint="none",method="GET",'
                 'status="404"}') == 1
    assert moved('joinedup_http_requests_total{endpoint="none",method="other",'
                 'status="405"}') == 1
    assert moved('joinedup_http_request_duration_seconds_count{endpoint="main.healthz"}') == 3
    assert moved('joinedup_http_request_duration_seconds_bucket{endpoint="main.healthz",'
                 'le="+Inf"}') == 3
    assert not any("no-such-page" in name for name in after)  # never the path


def test_queue_depth_and_failed_messages(scrape):
    series = scrape()
    assert series['joinedup_jobs{kind="email",status="pending"}'] == 0
    assert series['joinedup_jobs{kind="email",status="failed"}'] == 0
    assert series["joinedup_jobs_oldest_due_seconds"] == 0
    for n in range(3):
        jobs.enqueue("email", {"to": f"person{n}@example.test", "subject": "s", "body": "b"})
    failed = jobs.enqueue("email", {"to": "gone@example.test", "subject": "s", "body": "b"})
    db.session.flush()
    failed.status = jobs.JobStatus.FAILED.value
    db.session.commit()
    series = scrape()
    assert series['joinedup_jobs{kind="email",status="pending"}'] == 3
    assert series['joinedup_jobs{kind="email",status="failed"}'] == 1
    assert series["joinedup_jobs_oldest_due_seconds"] >= 0


def test_the_scrape_runs_two_statements(app, client, scrape, count_queries):
    scrape()
    with count_queries() as q:
        scrape()
    assert q.count == 2  # jobs by kind and status; the oldest due


def test_a_short_token_is_refused_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("METRICS_TOKEN", "short")
    with pytest.raises(ConfigError, match="METRICS_TOKEN must be at least 24 characters"):
        from_environment(tmp_path)
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    assert from_environment(tmp_path)["METRICS_TOKEN"] == TOKEN
    monkeypatch.delenv("METRICS_TOKEN")
    assert from_environment(tmp_path)["METRICS_TOKEN"] == ""
