"""BEELINE-Networks.zip: TF lists and ground-truth networks (or local files instead).

Members are found by their path suffix, so a leading folder in the archive does not matter;
extraction goes through :func:`grnbench.data.archives.safe_extract_zip`.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from grnbench.data.archives import safe_extract_zip
from grnbench.data.geo.spec import GeoSpec
from grnbench.errors import InputError
from grnbench.utils import write_csv

#: Network names of the benchmark -> BEELINE-Networks.zip member suffix ({species}, {cell}).
#: Matched case-insensitively (BEELINE spells it "Non-specific" for human, "Non-Specific" for mouse).
NETWORK_MEMBERS = {
    "specific": "Networks/{species}/{cell}-ChIP-seq-network.csv",
    "nonspecific": "Networks/{species}/Non-specific-ChIP-seq-network.csv",
    "string": "Networks/{species}/STRING-network.csv",
    "lofgof": "Networks/{species}/{cell}-lofgof-network.csv",
}
TF_MEMBER = "{species}-tfs.csv"


def find_member(zip_path: str | os.PathLike, suffix: str) -> str:
    """The one member of the zip whose path ends with ``suffix`` (case-insensitive, at a '/')."""
    zip_path = Path(zip_path)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(zip_path, f"cannot open as a zip archive: {e}") from e
    want = suffix.lower().replace("\\", "/").lstrip("/")
    hits = [n for n in names if (n.lower().replace("\\", "/") == want
                                 or n.lower().replace("\\", "/").endswith("/" + want))]
    if len(hits) != 1:
        near = [n for n in names if Path(want).name in n.lower()] or names[:5]
        what = "no member" if not hits else f"{len(hits)} members"
        raise InputError(zip_path, f"{what} ending with {suffix!r} (candidates: {near[:5]})")
    return hits[0]


def network_member(name: str, species: str, chip_cell: str | None) -> str:
    """BEELINE-Networks.zip member suffix for a benchmark network name."""
    if name not in NETWORK_MEMBERS:
        raise InputError("config: networks", f"network {name!r} is not one of BEELINE's {sorted(NETWORK_MEMBERS)}; "
                                             "give a local file under geo.network_files")
    tmpl = NETWORK_MEMBERS[name]
    if "{cell}" in tmpl and not chip_cell:
        raise InputError("config: geo.chip_cell", f"network {name!r} needs chip_cell (e.g. hESC, HepG2, mESC)")
    return tmpl.format(species=species, cell=chip_cell)


def extract_member_text(zip_path: str | os.PathLike, member: str, scratch: str | os.PathLike) -> pd.DataFrame:
    """Extract one member safely into a temporary folder under ``scratch`` and read it as CSV."""
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".extract.", dir=scratch) as tmp:
        (path,) = safe_extract_zip(zip_path, tmp, members=[member])
        return _read_table(path, f"{zip_path}:{member}")


def _read_table(path, source) -> pd.DataFrame:
    """A CSV as strings, through :func:`grnbench.data.readers.read_table` (errors name ``source``)."""
    from grnbench.data.readers import read_table  # loads on use: planning imports GeoSpec only

    header, rows = read_table(path, source=source)
    return pd.DataFrame(rows, columns=pd.Index(header, dtype=object))


def read_network_table(df: pd.DataFrame, source) -> pd.DataFrame:
    """``Gene1,Gene2[,Type]`` edges with self-loops and duplicates removed (as BEELINE does)."""
    if not {"Gene1", "Gene2"} <= set(df.columns):
        raise InputError(source, f"expected columns Gene1,Gene2, got {list(df.columns)}")
    cols = ["Gene1", "Gene2"] + (["Type"] if "Type" in df.columns else [])
    df = df[cols].astype(str)
    df = df[df["Gene1"] != df["Gene2"]]
    return df.drop_duplicates(subset=["Gene1", "Gene2"], keep="first").reset_index(drop=True)


def load_network(name: str, spec: GeoSpec, networks_zip, scratch) -> tuple[pd.DataFrame, str]:
    """A ground-truth network by benchmark name: a local file (``network_files``) or a zip member."""
    if name in spec.network_files:
        path = spec.network_files[name]
        return read_network_table(_read_table(path, path), path), str(path)
    if networks_zip is None:
        raise InputError("config: geo", f"network {name!r}: no network_files entry and no BEELINE-Networks.zip")
    member = find_member(networks_zip, network_member(name, spec.species, spec.chip_cell))
    src = f"{networks_zip}:{member}"
    return read_network_table(extract_member_text(networks_zip, member, scratch), src), src


def load_tfs(spec: GeoSpec, networks_zip, scratch) -> tuple[list[str], str]:
    """The species' TF list (first column or ``TF``): a local file or BEELINE's ``<species>-tfs.csv``."""
    if spec.tfs_file:
        df, src = _read_table(spec.tfs_file, spec.tfs_file), str(spec.tfs_file)
    else:
        if networks_zip is None:
            raise InputError("config: geo", "no tfs_file and no BEELINE-Networks.zip to take the TF list from")
        member = find_member(networks_zip, TF_MEMBER.format(species=spec.species))
        df, src = extract_member_text(networks_zip, member, scratch), f"{networks_zip}:{member}"
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise InputError(src, "TF list is empty")
    col = "TF" if "TF" in df.columns else df.columns[0]
    return list(dict.fromkeys(df[col].astype(str))), src


def write_network(name: str, spec: GeoSpec, networks_zip, genes, out_path) -> dict:
    """Network ``name`` restricted to ``genes`` -> ``out_path`` (``Gene1,Gene2[,Type]``); counts."""
    out_path = Path(out_path)
    net, src = load_network(name, spec, networks_zip, out_path.parent)
    gset = set(genes)
    kept = net[net["Gene1"].isin(gset) & net["Gene2"].isin(gset)]
    if kept.empty:
        raise InputError(src, f"no edge of network {name!r} has both genes in the expression data "
                              f"({len(net)} edges; e.g. {net[['Gene1', 'Gene2']].head(2).values.tolist()})")
    write_csv(kept, out_path)
    return {"network": name, "source": src, "edges_in_source": int(len(net)), "edges_written": int(len(kept)),
            "tfs_with_edges": int(kept["Gene1"].nunique()), "targets": int(kept["Gene2"].nunique())}
