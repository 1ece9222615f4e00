"""Open an HTML report headless in Chromium: it loads, raises no script error, shows every figure.

By default the test builds a small results folder, runs the aggregate stage and opens the
overview page it writes. Point it at any other report (e.g. Snakemake's ``results/report.html``)
with environment variables:

- ``GRNBENCH_REPORT_HTML``: path of the HTML file to open;
- ``GRNBENCH_REPORT_FIGURES``: comma-separated figure names that must be shown (default: every
  figure of the aggregate stage, ``grnbench.evaluate.report.FIGURE_STEMS``);
- ``GRNBENCH_CHROMIUM``: the browser binary (default: the first of chromium, chromium-browser,
  google-chrome on PATH).

How: a copy of the page gets two small scripts, one first in ``<head>`` recording uncaught
errors, one before ``</body>`` that, after the page has loaded, finds each figure and checks
that its image decoded (naturalWidth > 0). A Snakemake report shows one result at a time, so
there the probe opens each figure through the report's own ``app.setView`` first. The results
come back in the DOM Chromium dumps (``--dump-dom``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_results import make_results  # a hand-made results folder (tests/fake_results.py)

from grnbench.evaluate.report import FIGURE_STEMS, OVERVIEW, aggregate

ROOT = Path(__file__).resolve().parents[1]

ERROR_HOOK = """<script>
window.__grnbenchErrors = [];
window.addEventListener('error', function (e) {
  window.__grnbenchErrors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || e));
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__grnbenchErrors.push('unhandled rejection: ' + String(e.reason));
});
</script>"""

PROBE = """<script>
(function () {
  var expected = %s;
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function report(out) {
    var pre = document.createElement('pre');
    pre.id = 'grnbench-probe';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  async function imageState(img) {
    // poll (virtual time) instead of img.decode(): decode runs in real time and the DOM dump
    // would not wait for it
    if (!img) return {found: false};
    for (var i = 0; i < 100 && !img.complete; i++) await sleep(50);
    return {found: true, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight};
  }
  async function snakemakeFigure(name) {
    // Snakemake report: results maps paths to entries {filename, mime_type, data_uri}
    var key = Object.keys(results).find(function (k) {
      var f = results[k].filename || '';
      return f.indexOf(name + '.') === 0 && /^image\\//.test(results[k].mime_type || '');
    });
    if (!key) return {found: false, why: 'not among the report results'};
    app.setView({content: 'img', contentPath: results[key].data_uri, resultPath: key});
    for (var i = 0; i < 20; i++) {
      await sleep(100);
      var img = Array.from(document.images).find(function (im) {
        return im.getAttribute('src') === results[key].data_uri;
      });
      if (img) return imageState(img);
    }
    return {found: false, why: 'view did not render the image'};
  }
  function pageFigure(name) {
    var img = document.querySelector('figure[data-figure="' + name + '"] img') ||
      Array.from(document.images).find(function (im) {
        return (im.getAttribute('alt') || '') === name ||
          (im.getAttribute('src') || '').indexOf(name + '.png') >= 0;
      });
    return imageState(img);
  }
  window.addEventListener('load', async function () {
    await sleep(300);  // let a JavaScript report render its first view
    var isSnakemake = (typeof results !== 'undefined') && (typeof app !== 'undefined');
    var figures = {};
    for (var i = 0; i < expected.length; i++) {
      var name = expected[i];
      try {
        figures[name] = isSnakemake ? await snakemakeFigure(name) : await pageFigure(name);
      } catch (e) {
        figures[name] = {found: false, why: String(e)};
      }
    }
    report({snakemake: isSnakemake, errors: window.__grnbenchErrors, figures: figures,
            text_length: document.body.innerText.length});
  });
})();
</script>"""


def chromium_binary() -> str | None:
    env = os.environ.get("GRNBENCH_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def probe_copy(html_path: Path, expected: list[str], out: Path) -> Path:
    """Copy ``html_path`` to ``out`` with the error hook and the probe script inserted."""
    text = html_path.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text, flags=re.I)
    text = text[: head.end()] + ERROR_HOOK + text[head.end() :] if head else ERROR_HOOK + text
    probe = PROBE % json.dumps(expected)
    end = text.lower().rfind("</body>")
    text = text[:end] + probe + text[end:] if end >= 0 else text + probe
    out.write_text(text, encoding="utf-8")
    return out


def run_probe(browser: str, page: Path, tmp: Path) -> tuple[dict, str]:
    """Load ``page`` headless; return the probe's JSON and Chromium's console log."""
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",  # tests may run as root in containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="grnbench-probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert m, f"the probe did not report (chromium exit {res.returncode}): {res.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(m.group(1))), res.stderr


@pytest.fixture(scope="module")
def browser() -> str:
    b = chromium_binary()
    if b is None:
        pytest.skip(
            "no Chromium binary on PATH (install the 'chromium' package or set GRNBENCH_CHROMIUM)"
        )
    return b


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> tuple[Path, list[str]]:
    env = os.environ.get("GRNBENCH_REPORT_HTML")
    figures = [f for f in os.environ.get("GRNBENCH_REPORT_FIGURES", "").split(",") if f]
    if env:
        return Path(env), figures or list(FIGURE_STEMS)
    tmp = tmp_path_factory.mktemp("report")
    metrics = make_results(
        tmp / "results",
        cells=(("hESC", "specific", "tfs500"),),
        splits=("genelink",),
        seeds=(0, 1),
        methods=("random", "degree_prior", "pcc", "genelink", "sctransnet"),
    )
    aggregate(
        metrics,
        tmp / "results",
        tmp / "results" / "tables",
        tmp / "results" / "figures",
        ROOT / "resources" / "published",
    )
    return tmp / "results" / "figures" / OVERVIEW, figures or list(FIGURE_STEMS)


def test_report_opens_and_shows_every_figure(browser, report_page, tmp_path):
    html_path, expected = report_page
    assert html_path.exists(), f"report not found: {html_path}"
    page = probe_copy(html_path, expected, tmp_path / "probe.html")
    out, console = run_probe(browser, page, tmp_path)
    assert out["errors"] == [], f"script errors in {html_path}: {out['errors']}"
    uncaught = [ln for ln in console.splitlines() if "Uncaught" in ln]
    assert not uncaught, f"uncaught errors in the console: {uncaught}"
    assert out["text_length"] > 0, "the page shows no text"
    missing = {
        name: state
        for name, state in out["figures"].items()
        if not (state.get("found") and state.get("width", 0) > 0 and state.get("height", 0) > 0)
    }
    assert not missing, f"figures not shown in {html_path}: {missing}"
    assert sorted(out["figures"]) == sorted(expected)


def test_probe_catches_a_broken_page(browser, tmp_path):
    """The check can fail: a page with a script error and a broken image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body><p>text</p>"
        '<figure data-figure="performance_bars"><img src="missing.png"></figure>'
        "<script>undefinedFunction();</script></body></html>"
    )
    page = probe_copy(bad, ["performance_bars", "heatmap_auroc"], tmp_path / "probe.html")
    out, _ = run_probe(browser, page, tmp_path)
    assert any("undefinedFunction" in e for e in out["errors"])
    assert out["figures"]["performance_bars"]["found"] is True
    assert out["figures"]["performance_bars"]["width"] == 0  # broken image
    assert out["figures"]["heatmap_auroc"]["found"] is False
