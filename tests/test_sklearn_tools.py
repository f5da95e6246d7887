"""scikit-learn's tools on DANN estimators behave as ``docs/compatibility.rst`` says."""

import importlib.util
from pathlib import Path

import pytest

from tests.sklearn_tools_cases import TOOLS, VERDICTS

ROOT = Path(__file__).resolve().parents[1]


def _page_module():
    path = ROOT / "docs" / "make_compatibility.py"
    spec = importlib.util.spec_from_file_location("make_compatibility", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::skdann.label_shift.LabelShiftWarning")
@pytest.mark.parametrize("tool", TOOLS, ids=[t.name.split("`")[1].split(".")[-1] for t in TOOLS])
def test_the_tool_behaves_as_its_row_says(tool):
    assert tool.verdict in VERDICTS
    tool.check()


def test_the_committed_page_matches_the_cases():
    page = _page_module()
    assert page.PAGE.read_text() == page.render(TOOLS), (
        "docs/compatibility.rst is stale: run python docs/make_compatibility.py"
    )
