"""Write ``docs/compatibility.rst`` from ``tests/sklearn_tools_cases.py``.

Run from the repository root: ``python docs/make_compatibility.py``.
``tests/test_sklearn_tools.py`` runs every tool's check and fails when the
committed page differs from what this script writes.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "compatibility.rst"

INTRO = """\
scikit-learn tools and meta-estimators
======================================

What happens when scikit-learn's model-selection tools and meta-estimators
wrap a DANN estimator. Most of them know nothing of target rows: some read
the marker (``-1``, or NaN for a regressor) as a class or refuse it, some
drop the target rows before the DANN sees them. Every row below is a case in
``tests/sklearn_tools_cases.py``, whose check runs the tool on small data and
asserts what the row says; this page is written from that file by
``docs/make_compatibility.py``, and a test fails when the two differ.

*works*: use it as usual. *works with care*: it works in the form or with
the options given. *fails*: it runs but the result is wrong (or it
raises); the row says what to use instead.
"""


def render(tools):
    """The page's reStructuredText."""
    lines = [
        INTRO,
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 15 55",
        "",
        "   * - Tool",
        "     - Verdict",
        "     - How",
    ]
    for tool in tools:
        lines += [f"   * - {tool.name}", f"     - {tool.verdict}", f"     - {tool.how}"]
    return "\n".join(lines) + "\n"


def main():
    sys.path.insert(0, str(ROOT))
    from tests.sklearn_tools_cases import TOOLS

    PAGE.write_text(render(TOOLS))
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
