"""The figures README.md and the docs quote equal the results files.

``benchmarks/quoted_figures.py`` writes every quoted benchmark figure from
``benchmarks/results``; these tests run its check (JSON only, no training)
and show that the check fails when a quoted figure or a result is altered.
"""

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import quoted_figures

ROOT = Path(__file__).resolve().parents[1]


def test_quoted_figures_equal_the_results_files():
    changed = quoted_figures.update(write=False)
    assert not changed, "\n".join(changed.values()) + ("\nrun python -m benchmarks.quoted_figures")


# Figures in prose outside the generated blocks, none of them a benchmark's output.
NOT_FROM_THE_RESULTS = {
    # The split of the model-selection grids: parameters.
    ("docs/model_selection.rst", "80%"),
    ("docs/model_selection.rst", "20%"),
    # What the quickstart's snippet printed (tests/test_adaptation.py runs those fits).
    ("docs/model_files.rst", "64 MiB"),  # a limit in skdann/_archive.py, not a measurement
    ("docs/quickstart.rst", "0.703"),
    ("docs/quickstart.rst", "0.881"),
    ("docs/quickstart.rst", "+0.076"),
    # An earlier run's observation of EM on Amazon, not in a results file.
    ("docs/when_dann_helps.rst", "98%"),
    # The class balance of a table outside this repository, from the report in issue 19.
    ("docs/when_dann_helps.rst", "34%"),
    ("docs/when_dann_helps.rst", "33%"),
}


def test_every_measured_figure_is_in_a_generated_block():
    outside = set(quoted_figures.figures_outside_blocks()) - NOT_FROM_THE_RESULTS
    assert not outside, (
        f"figures quoted outside a generated block: {sorted(outside)}; put them in a "
        "block of benchmarks/quoted_figures.py, or list here why they are not benchmark output"
    )


def test_the_scan_finds_a_figure_written_outside_a_block(checkout):
    readme = checkout / "README.md"
    readme.write_text(readme.read_text() + "\nDANN reached 0.912 here, in 12.5 s.\n")
    found = set(quoted_figures.figures_outside_blocks(checkout))
    assert {("README.md", "0.912"), ("README.md", "12.5 s")} <= found


def test_the_demo_figures_state_threads_and_versions():
    values = quoted_figures.figures()
    readme = (ROOT / "README.md").read_text()
    (run,) = [
        r
        for r in json.loads((ROOT / "benchmarks" / "results" / "demo.json").read_text())
        if r["seed"] == 0 and r["max_iter"] == 100
    ]
    prose = " ".join(readme.split())
    assert f"**{run['torch_threads']} PyTorch threads**" in prose
    assert f"torch {run['versions']['torch']}, skorch {run['versions']['skorch']}" in prose
    assert values["demo_table"] in readme


@pytest.fixture
def checkout(tmp_path):
    """A copy of the pages and of the results, to alter."""
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("_build"))
    shutil.copytree(ROOT / "benchmarks" / "results", tmp_path / "benchmarks" / "results")
    return tmp_path


def _block(text, name):
    begin, end = f"<!-- figures:{name} -->", f"<!-- /figures:{name} -->"
    return text[text.index(begin) : text.index(end)]


def test_the_check_fails_when_a_quoted_figure_is_edited(checkout):
    readme = checkout / "README.md"
    text = readme.read_text()
    block = _block(text, "readme-accuracy")
    assert "0.810" in block  # DANN's mean on the Amazon reviews
    readme.write_text(text.replace(block, block.replace("0.810", "0.820", 1)))
    changed = quoted_figures.update(checkout, write=False)
    assert list(changed) == ["README.md"]
    assert "0.820" in changed["README.md"]
    # Rewriting puts the figure from the results back.
    quoted_figures.update(checkout)
    assert readme.read_text() == text


def test_the_check_fails_when_a_result_changes(checkout):
    path = checkout / "benchmarks" / "results" / "grid_search_scale.json"
    records = json.loads(path.read_text())
    (sequential,) = [r for r in records if r.get("method") == "sequential"]
    sequential["seconds"] = 21.04
    path.write_text(json.dumps(records))
    changed = quoted_figures.update(checkout, write=False)
    assert set(changed) == {"README.md", "docs/model_selection.rst"}
    assert all("21.0" in diff for diff in changed.values())


def test_prose_that_no_longer_fits_the_results_stops_the_script(checkout):
    path = checkout / "benchmarks" / "results" / "accuracy.json"
    records = json.loads(path.read_text())
    for r in records:
        if r.get("dataset") == "amazon" and r["method"] == "dann":
            r["target_accuracy"] = 0.5  # DANN loses every Amazon pair
    path.write_text(json.dumps(records))
    with pytest.raises(quoted_figures.ProseError, match="every Amazon pair"):
        quoted_figures.update(checkout, write=False)


def test_a_block_without_a_template_is_an_error(checkout):
    readme = checkout / "README.md"
    readme.write_text(readme.read_text() + "\n<!-- figures:nope -->\n<!-- /figures:nope -->\n")
    with pytest.raises(KeyError, match="nope"):
        quoted_figures.update(checkout, write=False)


def test_reflow_keeps_tables_and_lists_apart():
    text = "a " * 50 + "\n\n| x |\n|---|\n\n- item " + "word " * 30
    out = quoted_figures.reflow(text.strip())
    paragraph, table, item = out.split("\n\n")
    assert all(len(line) <= quoted_figures.WIDTH for line in paragraph.splitlines())
    assert table == "| x |\n|---|"
    assert item.startswith("- item") and item.splitlines()[1].startswith("  word")
