"""The report as a reader meets it, in a real browser (Debian's headless chromium), and the
progress view of a run; on one finished small workflow run."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from docutils.core import publish_parts

from tests.conftest import REPO, needs_shared
from workflow_scripts import progress
from workflow_scripts.evaluation import outer as outer_evaluation
from workflow_scripts.report import grid_view
from workflow_scripts.report import summary as report_summary
from workflow_scripts.search.grid import HYPERPARAMETERS

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium to render the report (apt-get install -y chromium; .ci/run installs it as root)",
)
# Milliseconds of virtual time a page gets to run its scripts; the process limit is far above it.
BUDGET_MS = 8000
CHROMIUM_TIMEOUT_S = 120


def chromium(page: Path, profile: Path, *args: str) -> str:
    """The DOM of ``page`` after its scripts ran, with every network name unresolvable (offline)."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--virtual-time-budget={BUDGET_MS}",
        *args,
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"chromium did not render {page} within {CHROMIUM_TIMEOUT_S} s: {command}") from error
    assert result.returncode == 0 and result.stdout, f"chromium failed ({result.returncode}) on {page}:\n{result.stderr[-3000:]}"
    return result.stdout


class Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def text_of(html: str) -> str:
    """The visible text of a page, whitespace collapsed (no scripts or styles)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def registered_figures() -> list[str]:
    """The paths (under results/) that the rules mark with report()."""
    found = []
    for rules in sorted((REPO / "rules").glob("*.smk")):
        found += re.findall(r'report\(\s*f"\{RESULTS\}/([^"]+)"', rules.read_text())
    return found


def embedded(html: str, name: str) -> dict:
    """One of the report's own tables, e.g. ``var results = {...}`` (path -> entry)."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (\{{.*?\}});\s*</script>', html, flags=re.S)
    assert match, f"the report has no {name} table"
    return json.loads(match.group(1))


def with_script(html: str, script: str) -> str:
    """``html`` with ``script`` run at the end of its body (the last </body>: inline JS may hold one)."""
    end = html.rindex("</body>")
    return f"{html[:end]}<script>{script}</script>{html[end:]}"


# Hover the first plotted point; write what the tooltip says into <pre id="probe">.
HOVER = """
window.addEventListener("load", () => setTimeout(() => {
  const point = document.querySelector("g.mark-symbol path");
  const box = point.getBoundingClientRect();
  const at = {bubbles: true, view: window, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2};
  for (const type of ["pointermove", "mousemove"]) point.dispatchEvent(new MouseEvent(type, at));
  setTimeout(() => {
    const out = document.createElement("pre"); out.id = "probe"; document.body.appendChild(out);
    const rows = document.querySelectorAll("#vg-tooltip-element.visible tr");
    out.textContent = Array.from(rows, r => Array.from(r.cells, c => c.textContent).join("=")).join("\\n");
  }, 500);
}, 1000));
"""


def probe_of(dom: str) -> str:
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert match, "the probe script did not run"
    return match.group(1)


def decoded(entry: dict) -> bytes:
    return base64.b64decode(entry["data_uri"].split("base64,", 1)[1])


def symbols_in(dom: str) -> int:
    """Plotted points: the paths in the Vega view's symbol-mark group."""
    group = re.search(r'<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)</g>', dom, flags=re.S)
    return len(re.findall(r"<path", group.group(1))) if group else 0


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, small_run: dict) -> dict:
    """The small workflow run to its end, and its report (the session's shared ``small_run``)."""
    results = small_run["workdir"] / "results"
    report = small_run["report"]
    return {
        "workdir": small_run["workdir"],
        "run_log": small_run["run_log"],
        "config": small_run["config"],
        "report": report,
        "html": report.read_text(errors="replace"),
        "results": results,
        "metrics": json.loads((results / "evaluation/metrics.json").read_text()),
        "selection": json.loads((results / "hpo/selection.json").read_text()),
        "counts": pd.read_csv(results / "genres/genre_counts.csv"),
        "cv": pd.read_csv(results / "hpo/cv_results.csv"),
        "profile": tmp_path_factory.mktemp("chromium"),
    }


@needs_shared
@pytest.mark.integration
@needs_chromium
def test_landing_page_shows_the_answer_first(finished: dict) -> None:
    dom = chromium(finished["report"], finished["profile"], "--window-size=1400,1000")
    metrics = finished["metrics"]
    headline = next((t for t in tables_of(dom) if t and t[0][:4] == ["model", "accuracy", "macro AUC-PR", "micro AUC-PR"]), None)
    assert headline is not None, f"no headline table in the rendered landing page:\n{text_of(dom)[:3000]}"
    rows = {row[0]: row[1:] for row in headline[1:]}
    assert set(rows) == set(metrics["models"]), rows
    for name, result in metrics["models"].items():
        assert rows[name] == [f"{result[s]:.3f}" for s in ("accuracy", "auc_pr_macro", "auc_pr_micro")], name
    text = text_of(dom)
    # The answer comes first: the headline, then the chosen network and the genres, the prose last.
    positions = [text.find(s) for s in ("Headline", "Chosen network", "Songs per genre", "genre-factor learns")]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "artist lookup row predicts each song's genre as its artist's majority genre" in text
    selection = finished["selection"]
    assert f"Combination {selection['combo']} of {selection['n_combinations']}" in text
    assert selection["reason"] in text
    counts = finished["counts"]
    for row in counts.itertuples(index=False):
        assert f"{row.genre} {row.songs}" in text, row.genre
    assert f"{counts['songs'].sum()} songs in all" in text


@needs_shared
@pytest.mark.integration
@needs_chromium
def test_every_registered_figure_is_in_the_report(finished: dict, tmp_path: Path) -> None:
    entries = embedded(finished["html"], "results")
    figures = registered_figures()
    if not finished["config"]["evaluation"]["outer_folds"]:
        figures = [f for f in figures if not f.startswith("evaluation/outer_summary")]
    if finished["config"]["search"].get("strategy", "grid") != "halving":
        figures = [f for f in figures if not f.startswith("hpo/halving_")]  # search.strategy: halving only
    assert len(figures) >= 8, figures
    by_path = {Path(path).as_posix(): entry for path, entry in entries.items()}
    for figure in figures:
        entry = by_path.get(f"results/{figure}")
        assert entry is not None, f"{figure} is not in the report (it has {sorted(by_path)})"
        assert decoded(entry) == (finished["results"] / figure).read_bytes(), figure
    # The browser decodes every embedded image, and lists every result under its category.
    probe = tmp_path / "probe.html"
    probe.write_text(
        with_script(
            finished["html"],
            """
            window.addEventListener("load", () => {
              const out = document.createElement("pre"); out.id = "probe"; document.body.appendChild(out);
              for (const [path, entry] of Object.entries(results)) {
                if (!entry.mime_type.startsWith("image/")) continue;
                const img = new Image();
                img.onload = () => { out.textContent += `${path} ${img.naturalWidth}x${img.naturalHeight}\\n`; };
                img.onerror = () => { out.textContent += `${path} FAILED\\n`; };
                img.src = entry.data_uri;
              }
            });
            </script></body>""",
        )
    )
    decoded_images = dict(
        line.rsplit(" ", 1)
        for line in re.search(r'<pre id="probe">(.*?)</pre>', chromium(probe, finished["profile"]), re.S).group(1).split("\n")
        if line
    )
    images = [f for f in figures if f.endswith(".png")]
    for figure in images:
        size = decoded_images.get(f"results/{figure}", "missing")
        assert re.fullmatch(r"[1-9]\d*x[1-9]\d*", size), f"{figure}: {size}"
    categories = {Path(p).as_posix(): c for c, subs in embedded(finished["html"], "categories").items() for ps in subs.values() for p in ps}
    for category in ("Data", "Evaluation", "Grid search"):
        page = tmp_path / f"{category}.html"
        page.write_text(with_script(finished["html"], f"setTimeout(() => app.showCategory({category!r}), 200);"))
        listed = text_of(chromium(page, finished["profile"]))
        mine = [f for f in figures if categories.get(f"results/{f}") == category]
        assert mine, category
        for figure in mine:
            assert Path(figure).name in listed, f"{figure} not listed under {category}"


@needs_shared
@pytest.mark.integration
@needs_chromium
def test_grid_view_in_the_report_renders_offline(finished: dict, tmp_path: Path) -> None:
    entry = next(e for p, e in embedded(finished["html"], "results").items() if Path(p).name == "grid_view.html")
    page = tmp_path / "grid_view.html"
    page.write_bytes(decoded(entry))
    html = page.read_text()
    assert not re.search(r"<script[^>]+src=", html), "the grid view loads a script from elsewhere"
    dom = chromium(page, finished["profile"], "--window-size=1000,700")
    assert "<svg" in dom, dom[-2000:]
    assert symbols_in(dom) == len(finished["cv"]), "one point per combination"
    assert f"Grid search: {len(finished['cv'])} combinations" in text_of(dom)
    # Hovering a point shows its combination and every hyperparameter of the grid.
    hover = tmp_path / "hover.html"
    hover.write_text(with_script(html, HOVER))
    tooltip = dict(
        line.split("=", 1) for line in probe_of(chromium(hover, finished["profile"], "--window-size=1000,700")).split("\n") if line
    )
    row = finished["cv"].set_index("combo").loc[tooltip.get("combination", "none")]
    assert tooltip["validation accuracy"] == f"{row['mean_val_accuracy']:.4f}"
    shown = [name for name in HYPERPARAMETERS if name in row.index and pd.notna(row[name])]
    assert len(shown) >= 8, shown
    for name in shown:
        assert tooltip[name] == grid_view.value_label(row[name]), name


@needs_shared
@pytest.mark.integration
def test_progress_view_of_the_finished_run(finished: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workflow_scripts.progress", "--once", "--log", str(finished["run_log"])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    n = len(finished["cv"])
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[3:] if line and not line.startswith("grid")}
    assert lines["hpo_combination"] == [str(n), "0", "0", str(n)], result.stdout
    assert lines["report_summary"] == ["1", "0", "0", "1"], result.stdout
    assert ": finished," in result.stdout and f"grid search: {n} of {n} jobs done" in result.stdout and "none left" in result.stdout
    assert "failed:" not in result.stdout


# A failed grid job, as Snakemake 9.27.1 logs it (from an interrupted real run, shortened).
FAILED_LOG = """\
Job stats:
job                count
---------------  -------
hpo_combination        3
all                    1
total                  4

Select jobs to execute...
[Tue Dec  1 09:55:43 2026]
rule hpo_combination:
    input: results/features/arrays.npz
    output: results/hpo/runs/aaaaaaaaaaaa.json
    jobid: 2
    wildcards: combo=aaaaaaaaaaaa
[Tue Dec  1 09:55:43 2026]
rule hpo_combination:
    output: results/hpo/runs/bbbbbbbbbbbb.json
    jobid: 3
[Tue Dec  1 09:56:07 2026]
Finished jobid: 2 (Rule: hpo_combination)
1 of 4 steps (25%) done
[Tue Dec  1 09:56:08 2026]
rule hpo_combination:
    output: results/hpo/runs/cccccccccccc.json
    jobid: 4
[Tue Dec  1 09:56:32 2026]
Error in rule hpo_combination:
    message: None
    jobid: 3
    input: results/features/arrays.npz
    output: results/hpo/runs/bbbbbbbbbbbb.json
    log: results/logs/hpo/bbbbbbbbbbbb.log (check log file(s) for error details)
"""


def test_progress_counts_failures_and_estimates_the_time_left() -> None:
    state = progress.parse(FAILED_LOG.splitlines())
    assert state.planned == {"hpo_combination": 3, "all": 1}
    assert state.per_rule() == [("hpo_combination", 1, 1, 1, 3), ("all", 0, 0, 0, 1)]
    assert [(f.rule, f.jobid, f.log) for f in state.failures] == [("hpo_combination", 3, "results/logs/hpo/bbbbbbbbbbbb.log")]
    assert state.grid_durations() == [24.0]
    # One job left (job 4 runs), one at a time, 24 s each: 150 jobs an hour, 24 s left.
    assert progress.grid_estimate(state) == "grid search: 1 of 3 jobs done; median job 24 s, 1 at once: 150 jobs/h, about 0m24s left"
    view = progress.render(state, "run.log")
    assert "1 failed:" in view and "hpo_combination (job 3): results/logs/hpo/bbbbbbbbbbbb.log" in view


def test_progress_of_a_quiet_run_says_why_it_is_empty() -> None:
    state = progress.parse(["  Command: /usr/bin/snakemake --cores 2 -q", "Select jobs to execute..."])
    assert state.quiet and "started with --quiet" in progress.render(state, "run.log")
    assert not progress.parse(["  Command: /usr/bin/snakemake --cores 2"]).quiet


def test_progress_without_a_log_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert progress.main(["--once", "--directory", str(tmp_path)]) == 1
    assert "no Snakemake log under" in capsys.readouterr().err


def test_landing_page_with_outer_folds_is_valid_restructuredtext() -> None:
    models = ["network", "hgb", "artist lookup"]
    folds = [
        {"models": {m: [{"seed": s, "accuracy": 0.5 + k / 100, "auc_pr_macro": 0.6, "auc_pr_micro": 0.7} for s in (1, 2)] for m in models}}
        for k in range(3)
    ]
    outer = outer_evaluation.summarize(folds)
    metrics = {
        "classes": ["metal", "r&b"],
        "n_test": 10,
        "n_train": 40,
        "models": {m: {"accuracy": 0.5, "auc_pr_macro": 0.6, "auc_pr_micro": 0.7} for m in models},
    }
    selection = {
        "combo": "0123456789ab",
        "params": {"units_1": 32, "reduce_lr_min_lr": 1e-5},
        "reason": "best mean validation accuracy (0.5000) among 1 of 1 combinations with a gap <= 0.050",
        "max_gap": 0.05,
        "mean_val_accuracy": 0.5,
        "std_val_accuracy": 0.01,
        "gap": 0.02,
        "mean_epochs": 12.0,
        "n_combinations": 1,
    }
    counts = pd.DataFrame({"genre": ["metal", "r&b"], "songs": [30, 20]})
    page = report_summary.landing_page(metrics, selection, counts, "artist", outer, n_folds=4)
    html = publish_parts(page, writer="html", settings_overrides={"halt_level": 2})["html_body"]
    outer_rows = next(t for t in tables_of(html) if t[0][-1] == "runs")
    assert [r[0] for r in outer_rows[1:]] == list(outer["model"])
    assert outer_rows[1][1] == f"{outer['accuracy_mean'][0]:.3f} ± {outer['accuracy_std'][0]:.3f}" and outer_rows[1][-1] == "6"
    assert "artist-disjoint" in html and "reduce_lr_min_lr=1e-05" in html and "r&amp;b 20" in html
    assert "(4-fold CV)" in html  # split.n_folds, not a fixed 3


def test_grid_view_carries_its_scripts_and_every_combination(tmp_path: Path) -> None:
    cv = pd.DataFrame(
        {
            "combo": ["a1", "b2", "c3"],
            "mean_val_accuracy": [0.6, 0.5, 0.4],
            "std_val_accuracy": [0.01, 0.02, 0.03],
            "mean_train_accuracy": [0.7, 0.52, 0.41],
            "gap": [0.1, 0.02, 0.01],
            "mean_epochs": [10.0, 11.0, 12.0],
            "units_1": [32, 64, 32],
            "units_4": [None, None, 16.0],
        }
    )
    data = grid_view.frame(cv, HYPERPARAMETERS, "b2", 0.05)
    assert list(data["status"]) == ["gap above limit", "chosen", "eligible"]
    assert list(data["units_4"]) == ["-", "-", "16"]
    path = tmp_path / "view.html"
    grid_view.write_html(cv, HYPERPARAMETERS, "b2", 0.05, path)
    html = path.read_text()
    assert not re.search(r"<script[^>]+src=", html) and "vegaEmbed" in html
    assert all(f'"combo": "{c}"' in html or f'"combo":"{c}"' in html for c in cv["combo"])


def overlapping_labels(fig) -> list[tuple[str, str]]:
    """Pairs of visible texts (titles, tick labels, legends, annotations) whose boxes overlap."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks, drawn_ticks = set(), []
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(tick.label1), id(tick.label2)}
                if lo <= tick.get_loc() <= hi and ax.axison:
                    drawn_ticks += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    others = [t for t in fig.findobj(Text) if id(t) not in ticks]
    texts = [t for t in others + drawn_ticks if t.get_visible() and t.get_text().strip()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1 :] if box_a.overlaps(box_b)]


def test_no_figure_has_overlapping_labels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import numpy as np
    import yaml

    from workflow_scripts.evaluation import evaluation_figures
    from workflow_scripts.genres import counts_figure
    from workflow_scripts.search import grid, search_figures

    drawn = {}
    for module in (evaluation_figures, counts_figure, search_figures):
        monkeypatch.setattr(module, "save_figure", lambda fig, path: drawn.__setitem__(Path(path).stem, fig))
    rng = np.random.default_rng(0)
    combos = grid.expand(yaml.safe_load((REPO / "config.yaml").read_text())["grid"])
    cv = pd.DataFrame(
        [{"combo": c, **p, "mean_val_accuracy": rng.uniform(0.5, 0.7), "gap": rng.uniform(0, 0.1)} for c, p in combos.items()]
    )
    search_figures.hyperparameter_effects(cv, HYPERPARAMETERS, tmp_path / "effects.png")
    search_figures.score_vs_gap(cv, cv["combo"][0], 0.05, tmp_path / "tradeoff.png")
    genres = ["classical", "electronic", "hip hop", "metal", "pop", "rock"]
    counts_figure.genre_counts(pd.DataFrame({"genre": genres, "songs": [1543, 980, 2210, 1200, 4000, 3100]}), tmp_path / "counts.png")
    models = ["network", "knn", "svm", "hgb", "ensemble", "artist lookup"]
    y = rng.integers(0, len(genres), 300)
    probas = {m: rng.dirichlet(np.ones(len(genres)), 300) for m in models}
    results = {
        m: {"accuracy": 0.6, "auc_pr_macro": 0.6, "auc_pr_micro": 0.7, "confusion": rng.integers(0, 500, (6, 6)).tolist()} for m in models
    }
    evaluation_figures.confusion_matrices(results, genres, tmp_path / "confusion.png")
    evaluation_figures.pr_curves(y, probas, genres, tmp_path / "pr.png")
    evaluation_figures.comparison(results, tmp_path / "comparison.png")
    evaluation_figures.training_curves(
        {k: list(rng.uniform(0, 1, 80)) for k in ("loss", "val_loss", "accuracy", "val_accuracy")}, tmp_path / "curves.png"
    )
    scores = {
        f"{s}_{stat}": rng.uniform(0.01, 0.7, len(models)) for s in ("accuracy", "auc_pr_macro", "auc_pr_micro") for stat in ("mean", "std")
    }
    evaluation_figures.outer_summary(pd.DataFrame({"model": models, **scores}), tmp_path / "outer.png")
    assert len(drawn) == 8
    for name, fig in drawn.items():
        assert overlapping_labels(fig) == [], name
