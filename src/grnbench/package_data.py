"""Files shipped inside the package (``src/grnbench/resources/``), found through the package.

They are package data (``pyproject.toml``'s ``[tool.setuptools.package-data]``), so a
non-editable install (the env that ``snakemake --sdm conda`` builds) and a workflow that uses
this one as a Snakemake ``module`` find them the same way an editable checkout does; nothing
climbs ``Path(__file__).parents``. The repository's top-level ``resources`` is a link to the
same folder, for people and cwd-relative config defaults.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def resource(*parts: str) -> Path:
    """Path of ``resources/<parts...>`` inside the installed package.

    setuptools installs package data as plain files (editable or not), so the path stays valid
    after the call; a zipped install is not supported (``as_file`` would give a temporary copy).
    """
    ref = files("grnbench").joinpath("resources", *parts)
    with as_file(ref) as path:
        return Path(path)


RESOURCES = resource()
