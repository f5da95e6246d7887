"""Run the code of docs/tabular.rst and keep what each block prints, for the page to show.

Run from the repository root, with the benchmark tables in ``$SKDANN_DATA``
(default ``../shared/data``)::

    python docs/run_tabular.py

The page's ``code-block:: python`` blocks run in order in one namespace.
What a block prints, and the warnings it raises (as ``Name: message``, the
way a user sees them, without the file path), go to
``docs/tabular_output/block_<n>.txt``, after a first line holding a hash of
the code up to that block; the page includes each file under its block,
from its second line. ``tests/test_docs_tabular.py`` checks the hashes, so
an edit of the page's code without a new run fails the tests.
"""

import contextlib
import hashlib
import io
import re
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "tabular.rst"
OUTPUT = DOCS / "tabular_output"
HEADER = "# printed by python docs/run_tabular.py; code hash {}\n"


def code_blocks(text):
    """The code of the page's ``code-block:: python`` blocks, unindented, in order."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def code_hash(blocks, n):
    """Hash of the code of blocks 1 to ``n`` (what block ``n``'s output depends on)."""
    return hashlib.sha256("\n\n".join(blocks[:n]).encode()).hexdigest()[:16]


def run(blocks, namespace=None):
    """Run ``blocks`` in order; return what each printed, its warnings included."""
    namespace = {} if namespace is None else namespace
    outputs = []
    for n, block in enumerate(blocks, 1):
        stdout = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
            warnings.simplefilter("always")
            exec(compile(block, f"{PAGE.name}, block {n}", "exec"), namespace)
        shown = [f"{w.category.__name__}: {w.message}" for w in caught]
        outputs.append("".join(f"{line}\n" for line in shown) + stdout.getvalue())
    return outputs


def main():
    blocks = code_blocks(PAGE.read_text())
    outputs = run(blocks)
    OUTPUT.mkdir(exist_ok=True)
    for stale in OUTPUT.glob("block_*.txt"):
        stale.unlink()
    for n, output in enumerate(outputs, 1):
        if output:
            path = OUTPUT / f"block_{n}.txt"
            path.write_text(HEADER.format(code_hash(blocks, n)) + output)
            print(f"{path}:\n{output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
