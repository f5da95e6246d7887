"""Run the code of docs/tabular.rst ("DANN on a table"), so the page cannot rot."""

import re
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

PAGE = Path(__file__).resolve().parents[1] / "docs" / "tabular.rst"


def _code_blocks(text):
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def test_the_page_has_its_code_blocks():
    assert len(_code_blocks(PAGE.read_text())) == 5


@pytest.mark.slow
def test_dann_on_a_table_page_runs(capsys):
    if not (SHARED_DATA / "adult_census_income").exists():
        pytest.skip(f"benchmark data not found at {SHARED_DATA}")
    code = "\n".join(_code_blocks(PAGE.read_text()))
    code = code.replace('DATA_DIR = Path("shared/data")', f"DATA_DIR = Path({str(SHARED_DATA)!r})")
    # Few epochs: this checks that the page runs, not its accuracy.
    code = re.sub(
        r"(DANN(?:Classifier|Regressor))\(random_state=0\)",
        r"\1(max_iter=3, random_state=0)",
        code,
    )
    assert code.count("max_iter=3") == 2
    exec(compile(code, str(PAGE), "exec"), {})
    out = capsys.readouterr().out
    for line in (
        "DANN target accuracy:",
        "HGB target accuracy:",
        "DANN target R2:",
        "HGB target R2:",
        "['dannclassifier0', 'dannclassifier1', 'dannclassifier2']",
        "{'dannregressor__adversarial_weight':",
    ):
        assert line in out, out
