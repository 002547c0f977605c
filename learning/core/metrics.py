"""/metrics in Prometheus's text format: requests, latency and the outbox; off unless
METRICS_TOKEN is set, and then only for a request that sends it.

Counters live in each process. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py does when METRICS_TOKEN is set): each
worker then writes its counts to files there, and whichever worker answers a scrape adds
them all up. Without it a scrape sees one worker's counts only (docs/deploy.md).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from datetime import datetime

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from learning.core import jobs, requestlog
from learning.core.extensions import db
from learning.core.jobs import Job, JobStatus
from learning.core.types import utcnow

REQUESTS = Counter("joinedup_http_requests", "Requests answered, by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("joinedup_http_request_duration_seconds",
                    "Time the app took to answer, by endpoint", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
#: Any other method (a client may send any word) counts as "other": labels stay few.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def refusal(authorization: str | None, token: str) -> int | None:
    """Pure: None when the request may read the metrics; otherwise the status to answer:
    404 while no token is configured (as if there were no such page), 401 without a bearer
    token, 403 with a wrong one."""
    if not token:
        return 404
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not sent.strip():
        return 401
    return None if hmac.compare_digest(sent.strip().encode(), token.encode()) else 403


def observe(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its time."""
    name = endpoint or "none"  # no route matched (a 404): never the path, which is anyone's
    REQUESTS.labels(name, method if method in METHODS else "other", str(status)).inc()
    LATENCY.labels(name).observe(seconds)


class _Outbox(Collector):
    """The outbox as it is at scrape time: jobs by kind and status, and how long the oldest
    job that is due has been waiting (a stuck or stopped worker shows here)."""

    def __init__(self, counts: dict[tuple[str, str], int], oldest_due: datetime | None,
                 now: datetime):
        self.counts, self.oldest_due, self.now = counts, oldest_due, now

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("joinedup_jobs", "Jobs in the outbox, by kind and status",
                                 labels=["kind", "status"])
        for (kind, status), n in sorted(self.counts.items()):
            jobs.add_metric([kind, status], n)
        yield jobs
        waiting = (self.now - self.oldest_due).total_seconds() if self.oldest_due else 0.0
        yield GaugeMetricFamily("joinedup_jobs_oldest_due_seconds",
                                "How long the oldest pending job that is due has waited",
                                value=max(0.0, waiting))


def outbox(now: datetime | None = None) -> _Outbox:
    """Read the outbox: two statements."""
    now = now or utcnow()
    counts = {(kind, status): n for kind, status, n in db.session.execute(
        select(Job.kind, Job.status, func.count(Job.id)).group_by(Job.kind, Job.status))}
    # Every registered kind shows in every status, at 0 too, so an alert has a series.
    for kind in {*jobs.kinds(), *(kind for kind, _ in counts)}:
        for status in JobStatus:
            counts.setdefault((kind, status.value), 0)
    oldest = db.session.scalar(select(func.min(Job.run_after)).where(
        Job.status == JobStatus.PENDING.value, Job.run_after <= now))
    return _Outbox(counts, oldest, now)


class _ThisProcess(Collector):
    """The default registry's metrics (this process's counters, its memory and CPU)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition() -> Response:
    """Every metric as Prometheus text."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every worker's counts, added up
    else:
        registry.register(_ThisProcess())
    registry.register(outbox())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Count every request (after requestlog, so the time is the same as the log line's)."""

    @app.after_request
    def count(response: Response) -> Response:
        observe(request.endpoint, request.method, response.status_code,
                requestlog.elapsed_ms() / 1000)
        return response
