"""Every bad input of ``tests/bad_input_cases.py`` fails (or warns) as the docs say."""

import importlib.util
import re
from pathlib import Path

import pytest

from tests.bad_input_cases import CASES, CATEGORIES

ROOT = Path(__file__).resolve().parents[1]


def _page_module():
    """The docs extension that renders the page, loaded from its file."""
    path = ROOT / "docs" / "_ext" / "bad_input_page.py"
    spec = importlib.util.spec_from_file_location("bad_input_page", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_message(text, case):
    if case.prefix:
        assert text.startswith(case.message), text
    else:
        assert text == case.message


@pytest.mark.parametrize("case", CASES, ids=[f"{c.estimator}: {c.title}" for c in CASES])
def test_bad_input_fails_with_the_documented_message(case):
    if case.skip_reason:
        pytest.skip(case.skip_reason)
    if issubclass(case.exception, Warning):
        with pytest.warns(case.exception, match=re.escape(case.message)) as record:
            case.call()
        matching = [
            str(w.message) for w in record if re.search(re.escape(case.message), str(w.message))
        ]
        _check_message(matching[0], case)
        return
    with pytest.raises(case.exception, match=re.escape(case.message)) as info:
        case.call()
    assert type(info.value) is case.exception
    _check_message(str(info.value), case)


def test_cases_are_well_formed():
    titles = [(case.estimator, case.title) for case in CASES]
    assert len(set(titles)) == len(titles), "duplicate titles"
    assert {case.estimator for case in CASES} == set(CATEGORIES)
    # Grouped by category, in the order the page shows them.
    order = [case.estimator for case in CASES]
    assert order == sorted(order, key=list(CATEGORIES).index)


def test_the_generated_page_lists_every_case(tmp_path):
    page = _page_module()
    text = page.render(CASES, CATEGORIES)
    for case in CASES:
        for part in (case.title, case.exception.__name__):
            assert part in text, part
        # Table cells hold the message as literal text; long ones are wrapped lines.
        assert page.literal(case.message) in " ".join(text.split()), case.message
    for section in CATEGORIES.values():
        assert section in text
    path = tmp_path / "generated" / "bad_input.rst"
    assert page.write_if_changed(path, text) is True
    assert path.read_text() == text
    assert page.write_if_changed(path, text) is False  # unchanged: not rewritten
