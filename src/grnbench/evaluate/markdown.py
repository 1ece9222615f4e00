"""Tables for reading: mean/sd pairs as 'm ± sd', GitHub-flavoured Markdown, and the
``.tsv`` + ``.md`` pair every table of the report is written as.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _fmt_num(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.{digits}f}"
    return str(v)


def _markdown_frame(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Collapse ``<x>_mean``/``<x>_sd`` pairs into one ``x`` column 'mean ± sd' for reading."""
    out = pd.DataFrame(index=df.index)
    cols = list(df.columns)
    done: set[str] = set()
    status = df["status"] if "status" in df.columns else pd.Series("", index=df.index)
    for c in cols:
        if c in done:
            continue
        if c.endswith("_mean") and c[: -len("_mean")] + "_sd" in cols:
            base = c[: -len("_mean")]
            sd = base + "_sd"
            d = 1 if base in ("runtime_s", "max_rss_mb") else digits
            vals = []
            for mean, s, st in zip(df[c], df[sd], status):
                if not np.isfinite(mean):
                    vals.append("failed" if st == "failed" else "")
                elif np.isfinite(s):
                    vals.append(f"{mean:.{d}f} ± {s:.{d}f}")
                else:
                    vals.append(f"{mean:.{d}f}")
            out[base] = vals
            done |= {c, sd}
        else:
            out[c] = [_fmt_num(v, digits) for v in df[c]]
            done.add(c)
    return out


def to_markdown(
    df: pd.DataFrame, title: str | None = None, note: str | None = None, digits: int = 3
) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency); mean/sd pairs shown as 'm ± sd'."""
    md = _markdown_frame(df, digits)
    lines = []
    if title:
        lines += [f"# {title}", ""]
    if note:
        lines += [note, ""]
    if md.empty:
        lines.append("_No rows: nothing to show for this table yet._")
        return "\n".join(lines) + "\n"
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines.append("| " + " | ".join(esc(c) for c in md.columns) + " |")
    lines.append("|" + "|".join("---" for _ in md.columns) + "|")
    for _, r in md.iterrows():
        lines.append("| " + " | ".join(esc(v) for v in r) + " |")
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, stem: Path, title: str, note: str | None = None) -> list[Path]:
    """Write ``<stem>.tsv`` (full precision, NaN empty) and ``<stem>.md``; return both paths."""
    from grnbench.utils import atomic_path

    stem = Path(stem)
    tsv, md = stem.with_suffix(".tsv"), stem.with_suffix(".md")
    with atomic_path(tsv) as tmp:
        df.to_csv(tmp, sep="\t", index=False, na_rep="NaN", float_format="%.6g")
    with atomic_path(md) as tmp:
        tmp.write_text(to_markdown(df, title, note))
    return [tsv, md]

