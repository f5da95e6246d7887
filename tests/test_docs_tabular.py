"""Run the code of docs/tabular.rst ("DANN on a table"), so the page cannot rot."""

import importlib.util
import re
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = DOCS / "tabular.rst"

# docs/run_tabular.py runs the page and writes the outputs it shows; it is not a package.
_spec = importlib.util.spec_from_file_location("run_tabular", DOCS / "run_tabular.py")
run_tabular = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_tabular)


def test_the_page_has_its_code_blocks():
    assert len(run_tabular.code_blocks(PAGE.read_text())) == 5


def test_the_outputs_shown_come_from_the_code_shown():
    # Each output file starts with a hash of the code up to its block: editing the page's
    # code without rerunning python docs/run_tabular.py fails here.
    text = PAGE.read_text()
    blocks = run_tabular.code_blocks(text)
    included = re.findall(r"\.\. literalinclude:: tabular_output/block_(\d+)\.txt", text)
    printing = [str(n) for n, block in enumerate(blocks, 1) if "print(" in block]
    assert included == printing
    for n in map(int, included):
        header = (run_tabular.OUTPUT / f"block_{n}.txt").read_text().splitlines()[0]
        assert header == run_tabular.HEADER.format(run_tabular.code_hash(blocks, n)).strip(), n


@pytest.mark.slow
def test_dann_on_a_table_page_runs(monkeypatch):
    if not (SHARED_DATA / "adult_census_income").exists():
        pytest.skip(f"benchmark data not found at {SHARED_DATA}")
    monkeypatch.setenv("SKDANN_DATA", str(SHARED_DATA))
    blocks = run_tabular.code_blocks(PAGE.read_text())
    # Few epochs: this checks that the page runs, not its accuracy.
    assert sum("SMALL_TABLE = {" in block for block in blocks) == 1
    few_epochs = 'SMALL_TABLE = {"max_iter": 3, '
    blocks = [block.replace("SMALL_TABLE = {", few_epochs) for block in blocks]
    out = "".join(run_tabular.run(blocks))
    for line in (
        "DANN target accuracy:",
        "HGB target accuracy:",
        "DANN target R2:",
        "HGB target R2:",
        "['dannclassifier0', 'dannclassifier1', 'dannclassifier2']",
        "{'dannregressor__adversarial_weight':",
    ):
        assert line in out, out


def test_dann_on_a_table_page_says_where_the_data_should_be(monkeypatch, tmp_path):
    monkeypatch.setenv("SKDANN_DATA", str(tmp_path))
    first = run_tabular.code_blocks(PAGE.read_text())[0]
    with pytest.raises(FileNotFoundError, match="set SKDANN_DATA to the folder that holds"):
        run_tabular.run([first])
