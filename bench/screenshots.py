"""Screenshots of the learner dashboard, a marking page and a timed quiz, at 1280 and 375 px.

Logs in as the demo users that `flask seed-demo` creates, on a server that is already
running, and writes six PNGs to the output folder:

    learner-dashboard-1280.png   learner-dashboard-375.png   (the whole page)
    marking-page-1280.png        marking-page-375.png        (the whole page)
    timed-quiz-1280.png          timed-quiz-375.png          (the screen, scrolled halfway)

The timed quiz is the screen rather than the whole page: scrolled halfway down, it shows
whether the time left stays in view. The marking page is the first answer in the assessor's
queue (the demo learner Priya Shah's submitted answer). The quiz is the course's end-of-unit
quiz (time limit 42 minutes); the learner's attempt is started the first time and continued
after that. With pngquant and optipng installed (apt-get install -y pngquant optipng) the
files are made smaller; without them they are kept as Chromium wrote them.

    .venv/bin/python bench/screenshots.py http://127.0.0.1:5077 docs/screenshots/after \
        [--password demo-password-2026] [--quiz end-of-unit]

Uses Debian's Chromium (/usr/bin/chromium, or CHROMIUM_BIN); it never downloads a browser.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
WIDTHS = (1280, 375)
HEIGHT = 800
LEARNER = "learner@example.com"
ASSESSOR = "assessor@example.com"


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"), timeout=15_000)


def learner_dashboard(page: Page, path: Path) -> None:
    page.goto("/dashboard")
    page.screenshot(path=path, full_page=True)


def timed_quiz(page: Page, path: Path, quiz: str) -> None:
    page.goto(f"/quizzes/{quiz}")
    page.get_by_role("button", name=re.compile(r"^(Continue your attempt|Start attempt)")) \
        .first.click()
    page.wait_for_url(re.compile(r"/attempts/\d+"))
    page.wait_for_load_state("load")
    page.evaluate("window.scrollTo(0, (document.documentElement.scrollHeight"
                  " - window.innerHeight) / 2)")
    page.wait_for_timeout(300)  # let the scroll settle before the picture
    page.screenshot(path=path)


def marking_page(page: Page, path: Path) -> None:
    page.goto("/marking")
    page.get_by_role("table").get_by_role("link").first.click()
    page.wait_for_load_state("load")
    page.screenshot(path=path, full_page=True)


def shrink(path: Path) -> None:
    """Fewer colours (pngquant), then a tighter encoding (optipng): both optional."""
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality", "70-95",
                        "--ext", ".png", str(path)], check=False)
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(path)], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--password", default="demo-password-2026")
    parser.add_argument("--quiz", default="end-of-unit")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width in WIDTHS:
            for email, shots in ((LEARNER, (("learner-dashboard", learner_dashboard),
                                            ("timed-quiz", lambda page, path: timed_quiz(
                                                page, path, args.quiz)))),
                                 (ASSESSOR, (("marking-page", marking_page),))):
                context = browser.new_context(base_url=args.base_url,
                                              viewport={"width": width, "height": HEIGHT})
                page = context.new_page()
                log_in(page, email, args.password)
                for name, shoot in shots:
                    path = args.out_dir / f"{name}-{width}.png"
                    shoot(page, path)
                    shrink(path)
                    written.append(path)
                context.close()
        browser.close()
    for path in written:
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
