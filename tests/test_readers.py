"""Readers and the internal format, including every bad input of the foundation issue."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grnbench.data.dataset import read_h5ad, write_h5ad
from grnbench.data.readers import (
    read_beeline,
    read_expression,
    read_genelink_folder,
    read_network,
    read_pseudotime,
)
from grnbench.errors import InputError


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD_EXPR = ",c1,c2,c3\nTF1,1.0,2.0,0.5\nTF2,0.1,0.0,3.0\nG1,2.0,2.5,0.0\n"


def beeline_files(tmp_path, expr=GOOD_EXPR, net="Gene1,Gene2,Type\nTF1,G1,+\nTF2,G1,-\n", tfs="TF\nTF1\nTF2\n"):
    return (write(tmp_path, "ExpressionData.csv", expr), write(tmp_path, "refNetwork.csv", net),
            write(tmp_path, "TFs.csv", tfs))


def test_read_beeline_roundtrip_h5ad(tmp_path):
    e, n, t = beeline_files(tmp_path)
    pt = write(tmp_path, "PseudoTime.csv", "cell,PseudoTime1,PseudoTime2\nc1,0.1,NA\nc2,NA,0.5\nc3,0.9,NA\n")
    d = read_beeline(e, n, t, pt, name="toy")
    assert d.genes == ["TF1", "TF2", "G1"] and d.tfs == ["TF1", "TF2"]
    assert d.expression().shape == (3, 3)
    np.testing.assert_allclose(d.pseudotime, [0.1, 0.5, 0.9])
    write_h5ad(d.adata, tmp_path / "d.h5ad")
    back = read_h5ad(tmp_path / "d.h5ad")
    assert back.genes == d.genes and back.tfs == d.tfs
    pd.testing.assert_frame_equal(back.network, d.network)
    # opens in scanpy unchanged
    import scanpy as sc

    ad = sc.read_h5ad(tmp_path / "d.h5ad")
    assert ad.shape == (3, 3) and "is_tf" in ad.var


@pytest.mark.parametrize(
    "text, match",
    [
        (",c1,c2\nG1,1.0,abc\nG2,0,1\n", r"gene 'G1', cell 'c2', line 2.*'abc' is not a finite number"),
        (",c1,c2\nG1,1.0,\nG2,0,1\n", r"gene 'G1', cell 'c2'.*not a finite number"),
        (",c1,c2\nG1,1.0,inf\n", r"not a finite number"),
        (",c1,c2\nG1,1,2\nG1,0,1\n", r"duplicated gene 'G1'"),
        (",c1,c1\nG1,1,2\n", r"duplicated cell"),
        ("", r"file is empty"),
        (",c1,c2\n", r"at least one of each"),
    ],
)
def test_bad_expression(tmp_path, text, match):
    p = write(tmp_path, "ExpressionData.csv", text)
    with pytest.raises(InputError, match=match) as exc:
        read_expression(p)
    assert "ExpressionData.csv" in str(exc.value)


def test_non_utf8_expression(tmp_path):
    p = tmp_path / "ExpressionData.csv"
    p.write_bytes(b",c1\n\xff\xfeG1,1\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_expression(p)


def test_network_with_unknown_gene(tmp_path):
    e, n, t = beeline_files(tmp_path, net="Gene1,Gene2\nTF1,G1\nTF1,NOPE\n")
    with pytest.raises(InputError, match=r"refNetwork.csv \(row 3, column Gene2\): gene 'NOPE' is not in the expression"):
        read_beeline(e, n, t)
    # restricting a genome-wide network drops such edges instead
    d = read_beeline(e, n, t, strict_network=False)
    assert len(d.network) == 1


def test_network_wrong_columns(tmp_path):
    p = write(tmp_path, "net.csv", "a,b\nx,y\n")
    with pytest.raises(InputError, match="expected columns Gene1,Gene2"):
        read_network(p)
    # a ';'-separated file is named as such (tests/test_input_messages.py)
    p = write(tmp_path, "net2.csv", "a;b\nx;y\n")
    with pytest.raises(InputError, match="looks ';'-separated"):
        read_network(p)


def test_tf_list_without_tf_in_gene_set(tmp_path):
    e, n, t = beeline_files(tmp_path, net="Gene1,Gene2\nTF1,G1\n", tfs="TF\nXX\nYY\n")
    with pytest.raises(InputError, match=r"TFs.csv: none of the 2 TFs is in the gene set"):
        read_beeline(e, n, t)


def test_pseudotime_missing_cells(tmp_path):
    e, n, t = beeline_files(tmp_path)
    pt = write(tmp_path, "PseudoTime.csv", "cell,PseudoTime\nc1,0.1\n")
    with pytest.raises(InputError, match="2 cells .* have no pseudotime"):
        read_beeline(e, n, t, pt)
    assert len(read_pseudotime(pt)) == 1


def test_genelink_folder_real(shared_data):
    d = read_genelink_folder(shared_data / "genelink" / "specific" / "mDC" / "tfs500")
    assert d.n_genes == 821 and d.n_cells == 383
    net = pd.read_csv(shared_data / "genelink" / "specific" / "mDC" / "tfs500" / "BL--network.csv")
    assert len(d.network) == len(net)
    assert set(d.network["Gene1"]) <= set(d.tfs)


def test_genelink_folder_bad_tf_index(tmp_path):
    write(tmp_path, "BL--ExpressionData.csv", GOOD_EXPR)
    write(tmp_path, "BL--network.csv", "Gene1,Gene2\nTF1,G1\n")
    write(tmp_path, "TF.csv", ",TF,index\n0,TF1,0\n1,TF2,2\n")
    with pytest.raises(InputError, match=r"TF.csv \(row 3\): TF 'TF2' has index 2 but that row .* is G1"):
        read_genelink_folder(tmp_path)


def test_read_h5ad_missing_and_corrupt(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_h5ad(tmp_path / "nope.h5ad")
    p = write(tmp_path, "bad.h5ad", "not hdf5")
    with pytest.raises(InputError, match="not a readable .h5ad"):
        read_h5ad(p)
