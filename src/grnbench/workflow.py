"""Glue for ``workflow_scripts/``: log to the rule's log file, turn our errors into one clear line."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback

from grnbench.errors import GrnbenchError


@contextlib.contextmanager
def rule_logging(snakemake):
    """Send logging, stdout and stderr of a ``script:`` rule to its ``log:`` file.

    A :class:`GrnbenchError` (bad input, leak, failed download) is written as one line naming
    the file and problem; anything else with its traceback. The exception is re-raised so
    Snakemake marks the job failed and removes its outputs.
    """
    path = snakemake.log[0] if len(snakemake.log) else None
    if path is None:
        yield
        return
    with open(path, "w") as fh:
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            try:
                yield
            except GrnbenchError as e:
                print(f"ERROR ({type(e).__name__}): {e}", file=fh)
                print(f"ERROR ({type(e).__name__}): {e}", file=sys.__stderr__)
                raise
            except BaseException:
                traceback.print_exc(file=fh)
                raise
            finally:
                root.removeHandler(handler)


def link_relative(target, link) -> None:
    """Make ``link`` a relative symlink to ``target`` (replacing whatever ``link`` was), so a
    results folder moved or copied as a whole keeps its links (rule ``link_unsupervised``)."""
    import os
    from pathlib import Path

    link = Path(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.tmp-link")
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(Path(target), link.parent), tmp)
    os.replace(tmp, link)


def link_files(links: dict, log_path) -> None:
    """``{target: link}``: make each link (:func:`link_relative`) and say so in ``log_path``."""
    from pathlib import Path

    for target, link in links.items():
        link_relative(target, link)
    Path(log_path).write_text("".join(f"{link} -> {target}\n" for target, link in links.items()))
