"""Build the docs and screenshot pages as a reader sees them, with Debian's chromium.

Run from the repository root::

    python docs/screenshots.py            # build, then screenshot the default pages
    python docs/screenshots.py --no-build # screenshot the last build
    python docs/screenshots.py --page quickstart --width 400

The build is the one ``tests/test_quality.py`` runs (``sphinx -W``, one torch
thread), into ``docs/_build/html``. Screenshots go to
``docs/_build/screenshots/<page>-<width>.png``, at 1280 and 400 px wide by
default; look at them after every change to the docs. Needs ``chromium``
(``apt-get install chromium``).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
HTML = DOCS / "_build" / "html"
SHOTS = DOCS / "_build" / "screenshots"

# The pages a reader lands on, from the landing page to the API and the generated pages.
PAGES = [
    "index",
    "quickstart",
    "tabular",
    "when_dann_helps",
    "model_files",
    "generated/bad_input",
    "generated/skdann.DANNClassifier",
    "auto_examples/index",
    "auto_examples/adaptation/plot_rotated_moons",
]
WIDTHS = [1280, 400]
# Tall enough for the first screens of a page; a phone's first screen is the top 800 px.
HEIGHT = 2000


def build():
    """Build the HTML docs warning-free, as the test does; return the seconds it took."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    start = time.perf_counter()
    subprocess.run([*command, str(DOCS), str(HTML)], check=True, env=env)
    return time.perf_counter() - start


def screenshot(page, width, height=HEIGHT):
    """Screenshot ``page`` (a path under the HTML output, without ``.html``); return the PNG."""
    browser = shutil.which("chromium") or sys.exit("chromium not found: apt-get install chromium")
    source = HTML / f"{page}.html"
    if not source.exists():
        sys.exit(f"{source} does not exist: build the docs first")
    target = SHOTS / f"{page.replace('/', '_')}-{width}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="use the last build")
    parser.add_argument("--page", action="append", help=f"page to shoot (default: {PAGES})")
    parser.add_argument("--width", action="append", type=int, help="window width in px")
    parser.add_argument("--height", type=int, default=HEIGHT, help="window height in px")
    args = parser.parse_args(argv)
    if not args.no_build:
        print(f"built in {build():.0f} s")
    for page in args.page or PAGES:
        for width in args.width or WIDTHS:
            print(screenshot(page, width, args.height))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
