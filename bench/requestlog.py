"""What the request log line and the /metrics counters add to each request, in microseconds.

Times the work the app does per request for them (start: the timer, the statement counter
and the request id; finish: the X-Request-Id header, the JSON line written to a stream, the
request counter and the latency histogram), in one request context, many times over.
Nothing is asserted; the figure is printed with the load average.

    .venv/bin/python bench/requestlog.py [--times 20000]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from learning import create_app  # noqa: E402
from learning.core import metrics, requestlog  # noqa: E402
from tests.conftest import fixture_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(fixture_settings(f"sqlite:///{tmp}/bench.sqlite3"))
        requestlog.to_stdout()
        requestlog.log.handlers[-1].stream = io.StringIO()  # formatted and written, not shown
        response = app.response_class("")
        with app.test_request_context("/dashboard", headers={"X-Request-Id": "x" * 32}):
            started = time.perf_counter()
            for _ in range(args.times):
                requestlog._start()
                requestlog._finish(response)
                metrics.observe("home.dashboard", "GET", 200, 0.01)
            took = time.perf_counter() - started
    print(f"request log line + metrics per request: {took / args.times * 1e6:.1f} µs "
          f"({args.times} requests; load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
