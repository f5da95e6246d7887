"""Sphinx extension: the "Bad input" page, generated from ``tests/bad_input_cases.py``.

At ``builder-inited`` (before Sphinx looks for source files) it imports the
cases that ``tests/test_bad_input_matrix.py`` checks and writes them as
tables to ``docs/generated/bad_input.rst`` (``docs/generated/`` is
gitignored). The file is rewritten only when its text changes, so an
incremental build re-reads the page only then. Nothing is fitted: the
cases' calls run in the tests, not here.
"""

import importlib
from pathlib import Path

from sphinx.errors import ExtensionError

PAGE = Path("generated") / "bad_input.rst"

INTRO = """\
Bad input
=========

What skdann answers to each bad input it checks: the exception it raises
(or the warning it gives) and its message. Every row is a case in
``tests/bad_input_cases.py``; this page is generated from that file at each
documentation build, and the test suite (``tests/test_bad_input_matrix.py``)
makes each call and checks the exception and the message, so the page
cannot drift from the code. A message ending in "…" is the documented
beginning of a longer one (the rest lists options in no fixed order, or is
scikit-learn's advice).

Unless a row says otherwise, the bad input is given to ``fit``.
``InvalidParameterError`` (scikit-learn's) and ``NotFittedError`` are
subclasses of ``ValueError``, so ``except ValueError`` catches every error
on this page but the ``TypeError`` and ``FloatingPointError`` ones.
"""


def literal(text):
    """``text`` as reStructuredText inline literal."""
    if "``" in text or text != text.strip():
        raise ValueError(f"cannot show {text!r} as an inline literal")
    return f"``{text}``"


def _exception_cell(exception):
    name = f"``{exception.__name__}``"
    if issubclass(exception, Warning):
        return f"{name} (a warning)"
    base = next(b for b in exception.__mro__ if b.__module__ == "builtins")
    return name if base is exception else f"{name} (a ``{base.__name__}``)"


def _table(cases):
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 15 55",
        "",
        "   * - Bad input",
        "     - Exception",
        "     - Message",
    ]
    for case in cases:
        message = literal(case.message) + (" …" if case.prefix else "")
        lines += [
            f"   * - {case.title}",
            f"     - {_exception_cell(case.exception)}",
            f"     - {message}",
        ]
    return lines


def render(cases, categories):
    """The page's reStructuredText: one section and table per category.

    Parameters
    ----------
    cases : list of Case
        The cases of ``tests/bad_input_cases.py``.
    categories : dict
        Section title of each ``Case.estimator`` value, in page order.

    Returns
    -------
    str
    """
    lines = [INTRO]
    for key, title in categories.items():
        selected = [case for case in cases if case.estimator == key]
        if not selected:
            continue
        lines += [title, "-" * len(title), "", *_table(selected), ""]
    return "\n".join(lines)


def write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it already holds it; return whether it wrote."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _load_cases(srcdir):
    expected = (Path(srcdir).parent / "tests" / "bad_input_cases.py").resolve()
    try:
        module = importlib.import_module("tests.bad_input_cases")
    except ImportError as exc:
        raise ExtensionError(
            f"bad_input_page: cannot import tests.bad_input_cases ({exc}); conf.py must put "
            "the repository root on sys.path."
        ) from exc
    if Path(module.__file__).resolve() != expected:
        raise ExtensionError(
            f"bad_input_page: imported tests.bad_input_cases from {module.__file__}, not "
            f"from this checkout's {expected}; another 'tests' package shadows it."
        )
    return module


def generate(app):
    """Write the page (``builder-inited`` handler)."""
    module = _load_cases(app.srcdir)
    write_if_changed(Path(app.srcdir) / PAGE, render(module.CASES, module.CATEGORIES))


def setup(app):
    app.connect("builder-inited", generate)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
