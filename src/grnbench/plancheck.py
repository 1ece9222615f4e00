"""Refuse at planning what is known at planning, and keep one run per results folder.

:func:`check_config` runs when Snakemake reads the workflow (``rules/common.smk``), so
``snakemake -n`` already exits non-zero, naming every config key that is wrong:

- ``seeds``: a seed listed twice (its jobs would write the same files twice and corrupt
  ``metrics.tsv``);
- ``methods.<name>.preset`` / ``methods.<name>.params.<key>``: a preset or parameter the
  method class does not know (what :class:`~grnbench.methods.base.Method` refuses at run time,
  after the data are made); ``params.device`` must be auto, cpu or cuda[:N];
- ``device: cuda`` (or a method's ``params.device``) where CUDA is not available, when the jobs
  run on this machine. With a cluster executor (``--executor slurm``, a profile) planning
  happens on a login node without a GPU, so it is not refused there; a job that finds no CUDA
  fails with :func:`grnbench.utils.resolve_device`'s error instead of running on the CPU;
- ``datasets.<name>.files``: a ``source: beeline`` dataset without ``files`` (expression,
  networks, and tfs unless ``regulators: all``) or with a network that has no file under
  ``files.networks``; ``datasets.<name>.regulators: all`` on a ``source: genelink`` dataset;
  ``datasets.<name>.cell`` (``source: genelink``): a cell / network / gene set GENELink does not
  publish;
- ``methods.<name>.params.gene_embeddings``: a file (or a ``.npy``'s gene list) that does not
  exist, an unknown format or a bad ``#`` selector (:func:`grnbench.data.embeddings.spec_problems`);
- ``downloads.genelink_local_dir`` / ``downloads.local_dir``: a folder that does not exist (a
  silent fall back to the network, and its retries, otherwise);
- ``split_params.cross_dataset``: a ``cross_dataset`` split without a training dataset and
  network of the config, a test cell that is the training one or not in the config, or no cell
  to test on (:func:`cross_dataset_jobs`).

The checks that depend on the machine (device, local folders) run only when Snakemake plans or
runs jobs here (not for ``--unlock``, ``--report``, ``--lint``, nor inside a cluster job).

:func:`lock_results` / :func:`unlock_results` (the Snakefile's ``onstart`` / ``onsuccess`` /
``onerror``) hold ``<results>/.grnbench-run.lock`` while a run executes. Snakemake's own lock
lives in the working directory's ``.snakemake/``, so two checkouts do not see each other's:
this one does, and a run from another working directory on a results folder in use is refused.
A dry run takes no lock; a lock whose process is gone (same host) is stale and taken over.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections import Counter
from pathlib import Path

from grnbench.errors import InputError

#: Snakemake command-line modes that read the workflow but plan and run no job.
_NO_JOB_MODES = ("unlock", "report", "lint", "cleanup_metadata", "list_rules", "list_target_rules",
                 "summary", "detailed_summary", "archive", "list_changes", "containerize", "generate_unit_tests")
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


# --- planning ----------------------------------------------------------------------------------


def _cli_state() -> tuple[object | None, object | None]:
    """``(args, executor_plugin)`` of the running ``snakemake`` command line, or ``(None, None)``.

    Snakemake 9 reads the Snakefile inside ``snakemake.cli.args_to_api`` before the workflow
    knows its executor (``workflow.executor_plugin`` is set only when execution starts); that
    frame holds the parsed arguments and the executor the user asked for (``--executor``, a
    profile), also for a dry run.
    """
    import inspect

    frame = inspect.currentframe()
    try:
        while frame is not None:
            if frame.f_code.co_name == "args_to_api" and "args" in frame.f_locals:
                return frame.f_locals.get("args"), frame.f_locals.get("executor_plugin")
            frame = frame.f_back
    finally:
        del frame
    return None, None


def planning_context(workflow=None) -> dict:
    """Where planning happens: ``{"jobs_here": bool, "local": bool, "mode": str}``.

    ``jobs_here``: this command plans or runs jobs (not ``--unlock``, ``--report``, ...) and is
    not itself a job of a run (Snakemake's remote / subprocess modes). ``local``: the jobs run on
    this machine (the local executor; False for a cluster executor such as slurm).
    """
    mode = "default"
    if workflow is not None:
        settings = getattr(workflow, "workflow_settings", None)
        exec_mode = getattr(settings, "exec_mode", None)
        mode = str(getattr(exec_mode, "name", exec_mode or "default")).lower()
        if getattr(workflow, "remote_exec", False) or getattr(workflow, "subprocess_exec", False):
            mode = "remote"
    args, plugin = _cli_state()
    no_jobs = (args is not None and any(getattr(args, k, None) for k in _NO_JOB_MODES)
               and not getattr(args, "report_after_run", False))
    local = True
    common = getattr(plugin, "common_settings", None)
    if common is not None:
        local = bool(getattr(common, "local_exec", True))
    return {"jobs_here": mode == "default" and not no_jobs, "local": local, "mode": mode}


def config_problems(config: dict, methods: dict | None = None, *, context: dict | None = None,
                    cuda_available=None, cwd: str | os.PathLike | None = None) -> list[str]:
    """Every planning-time mistake of ``config``, one ``"<key>: <problem>"`` line each.

    ``methods``: registered method classes by name (default: the registry). ``context``: from
    :func:`planning_context` (default: jobs run here, locally). ``cuda_available``: a callable
    (default ``torch.cuda.is_available``). ``cwd``: where relative folders are resolved (the
    working directory).
    """
    if methods is None:
        from grnbench.methods.registry import available

        methods = available()
    context = context or {"jobs_here": True, "local": True}
    out: list[str] = []
    out += _seed_problems(config.get("seeds", []))
    out += _method_problems(config.get("methods", {}), methods)
    out += _dataset_problems(config.get("datasets", {}))
    out += cross_dataset_problems(config)
    if context.get("jobs_here"):
        out += _folder_problems(config.get("downloads", {}) or {}, Path(cwd or os.getcwd()))
        out += _embedding_problems(config.get("methods", {}) or {}, Path(cwd or os.getcwd()))
        if context.get("local"):
            out += _device_problems(config, cuda_available)
    return out


def check_config(config: dict, workflow=None, methods: dict | None = None) -> None:
    """Raise one :class:`InputError` listing every planning-time mistake of ``config`` (see the
    module docstring); called by ``rules/common.smk`` when Snakemake reads the workflow."""
    problems = config_problems(config, methods, context=planning_context(workflow))
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        n = len(problems)
        raise InputError("config", f"{n} problem{'s' if n > 1 else ''} found at planning, nothing was run:\n{lines}")


def _seed_problems(seeds) -> list[str]:
    return [f"seeds: seed {s} is listed {k} times; list each seed once (a repeated seed writes the same files "
            "twice and corrupts metrics.tsv)" for s, k in Counter(seeds).items() if k > 1]


def _method_problems(cfg_methods: dict, registered: dict) -> list[str]:
    out = []
    for name, m in cfg_methods.items():
        m = m or {}
        cls = registered.get(name)
        if m.get("rule") or cls is None:  # rule methods have no class; unknown names: rules/common.smk
            continue
        preset = m.get("preset")
        presets = sorted(getattr(cls, "presets", {}) or {})
        if preset is not None and preset not in presets:
            known = f"known: {presets}" if presets else f"{name} has no presets"
            out.append(f"methods.{name}.preset: unknown preset {preset!r}; {known}")
        known_params = set(getattr(cls, "defaults", {}) or {}) | {"device"}
        for key in m.get("params", {}) or {}:
            if key not in known_params:
                out.append(f"methods.{name}.params.{key}: unknown parameter of {name}; known: {sorted(known_params)}")
        dev = (m.get("params") or {}).get("device")
        if dev is not None and not _DEVICE.match(str(dev)):
            out.append(f"methods.{name}.params.device: {dev!r} is not a device; expected auto, cpu, cuda or cuda:<N>")
    return out


def _genelink_folders() -> set[tuple[str, str, str]] | None:
    try:
        from grnbench.data.download import GENELINK_MANIFEST, read_manifest

        return {(r["network"], r["cell"], r["geneset"]) for r in read_manifest(GENELINK_MANIFEST) if r["network"]}
    except Exception:  # noqa: BLE001 - no manifest here: the download job names the problem
        return None


def _dataset_problems(datasets: dict) -> list[str]:
    out = []
    folders = None
    for ds, d in datasets.items():
        d = d or {}
        source = d.get("source")
        if source == "genelink" and d.get("regulators") == "all":
            out.append(f"datasets.{ds}.regulators: 'all' is for full expression files (source beeline, simulate, "
                       "geo, krumsiek11); a GENELink folder has its own TF list")
        if source == "beeline":
            files = d.get("files")
            every = d.get("regulators") == "all"
            want = ("files: {expression: ..., networks: {<network>: <file>}} (pseudotime optional; tfs optional "
                    "with regulators: all)" if every else
                    "files: {expression: ..., tfs: ..., networks: {<network>: <file>}} (pseudotime optional)")
            if not isinstance(files, dict):
                out.append(f"datasets.{ds}.files: a source: beeline dataset needs {want}")
                continue
            if not files.get("expression"):
                out.append(f"datasets.{ds}.files.expression: missing; a source: beeline dataset needs {want}")
            if not files.get("tfs") and not every:
                out.append(f"datasets.{ds}.files.tfs: missing; give a TF list, or set datasets.{ds}.regulators: all "
                           "to make every gene a candidate regulator (as BEELINE on synthetic data)")
            nets = files.get("networks") or {}
            for net in d.get("networks", []):
                if net not in nets:
                    out.append(f"datasets.{ds}.files.networks: no file for network {net!r} (of datasets.{ds}.networks); "
                               f"files.networks has {sorted(nets) or 'none'}")
        elif source == "genelink":
            cell = d.get("cell")
            if not cell:
                out.append(f"datasets.{ds}.cell: a source: genelink dataset needs the cell folder (e.g. mDC)")
                continue
            folders = _genelink_folders() if folders is None else folders
            if not folders:
                continue
            for net in d.get("networks", []):
                for gs in d.get("genesets", []):
                    if (net, cell, gs) not in folders:
                        cells = sorted({c for n, c, _ in folders if n == net}) or sorted({c for _, c, _ in folders})
                        sets = sorted({g for n, c, g in folders if (n, c) == (net, cell)})
                        nets = sorted({n for n, _, _ in folders})
                        out.append(f"datasets.{ds}: GENELink publishes no folder {net}/{cell}/{gs} (networks {nets}; "
                                   f"cells of {net!r}: {cells}; gene sets of {net}/{cell}: {sets or 'none'})")
    return out


def cross_dataset_jobs(config: dict) -> dict[tuple[str, str, str], tuple[str, str, str]]:
    """The cells of a ``cross_dataset`` split: ``(dataset, network, geneset)`` tested ->
    ``(dataset, network, geneset)`` whose labels train it (same gene set name).

    ``split_params.cross_dataset.train`` names the training dataset and network;
    ``split_params.cross_dataset.test`` (optional) lists the ``{dataset, network}`` cells to
    test on; default: every cell of the config but the training one whose gene set the training
    dataset also has. Empty when ``cross_dataset`` is not in ``splits`` or the block is unusable
    (:func:`cross_dataset_problems` names why)."""
    if "cross_dataset" not in (config.get("splits") or []):
        return {}
    cd = ((config.get("split_params") or {}).get("cross_dataset") or {})
    train = cd.get("train") or {}
    datasets = config.get("datasets") or {}
    tds, tnet = train.get("dataset"), train.get("network")
    if tds not in datasets or tnet not in (datasets[tds].get("networks") or []):
        return {}
    train_sets = set(datasets[tds].get("genesets") or [])
    wanted = cd.get("test")
    cells = ([(t.get("dataset"), t.get("network")) for t in wanted] if wanted else
             [(ds, net) for ds, d in datasets.items() for net in d.get("networks") or []])
    out = {}
    for ds, net in cells:
        if (ds, net) == (tds, tnet) or ds not in datasets or net not in (datasets[ds].get("networks") or []):
            continue
        for gs in datasets[ds].get("genesets") or []:
            if gs in train_sets:
                out[(ds, net, gs)] = (tds, tnet, gs)
    return out


def cross_dataset_problems(config: dict) -> list[str]:
    """What makes the config's ``cross_dataset`` split impossible (one line each)."""
    if "cross_dataset" not in (config.get("splits") or []):
        return []
    key = "split_params.cross_dataset"
    cd = ((config.get("split_params") or {}).get("cross_dataset") or {})
    train = cd.get("train") or {}
    datasets = config.get("datasets") or {}
    cells = sorted(f"{ds}/{net}" for ds, d in datasets.items() for net in d.get("networks") or [])
    if not train.get("dataset") or not train.get("network"):
        return [f"{key}.train: splits has cross_dataset, which needs the dataset and network whose labels train it, "
                f"e.g. train: {{dataset: <name>, network: <name>}}; the config's cells: {cells}"]
    tds, tnet = train["dataset"], train["network"]
    if tds not in datasets:
        return [f"{key}.train.dataset: {tds!r} is not a dataset of the config (datasets: {sorted(datasets)})"]
    if tnet not in (datasets[tds].get("networks") or []):
        return [f"{key}.train.network: {tnet!r} is not a network of datasets.{tds} "
                f"(its networks: {datasets[tds].get('networks') or []})"]
    out = []
    train_sets = set(datasets[tds].get("genesets") or [])
    for i, t in enumerate(cd.get("test") or []):
        ds, net = (t or {}).get("dataset"), (t or {}).get("network")
        where = f"{key}.test[{i}]"
        if (ds, net) == (tds, tnet):
            out.append(f"{where}: {ds}/{net} is the training cell itself; cross_dataset tests on another dataset or network")
        elif ds not in datasets or net not in (datasets[ds].get("networks") or []):
            out.append(f"{where}: {ds}/{net} is not a cell of the config (cells: {cells})")
        else:
            missing = sorted(set(datasets[ds].get("genesets") or []) - train_sets)
            if missing:
                out.append(f"{where}: gene set(s) {missing} of datasets.{ds} are not gene sets of the training dataset "
                           f"datasets.{tds} ({sorted(train_sets)}); the training labels come from the same gene set")
    if not out and not cross_dataset_jobs(config):
        out.append(f"{key}: no cell to test on: every cell of the config is the training one {tds}/{tnet} or has no gene "
                   f"set of datasets.{tds} ({sorted(train_sets)}); add another dataset or network to test on")
    return out


def _folder_problems(downloads: dict, cwd: Path) -> list[str]:
    out = []
    for key in ("genelink_local_dir", "local_dir"):
        value = downloads.get(key)
        if value and not (cwd / value).is_dir():
            out.append(f"downloads.{key}: folder {value!r} does not exist (resolved from the working directory "
                       f"{cwd}: {(cwd / value).resolve()}); set it to an existing folder or to null to download")
    return out


def _embedding_problems(cfg_methods: dict, cwd: Path) -> list[str]:
    from grnbench.data.embeddings import spec_problems

    out = []
    for name, m in cfg_methods.items():
        spec = ((m or {}).get("params") or {}).get("gene_embeddings")
        if spec:
            out += spec_problems(spec, f"methods.{name}.params.gene_embeddings", cwd)
    return out


def _device_problems(config: dict, cuda_available=None) -> list[str]:
    wants = []
    if str(config.get("device", "auto")).startswith("cuda"):
        wants.append(("device", config["device"]))
    for name, m in (config.get("methods") or {}).items():
        dev = ((m or {}).get("params") or {}).get("device")
        if dev is not None and str(dev).startswith("cuda"):
            wants.append((f"methods.{name}.params.device", dev))
    if not wants:
        return []
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available
    if cuda_available():
        return []
    return [f"{key}: {dev!r}, but CUDA is not available on this machine (torch.cuda.is_available() is False) and "
            "the jobs run here; use device: auto (CUDA when there is one) or cpu, or run with a cluster executor "
            "whose jobs get a GPU" for key, dev in wants]


# --- the results-folder lock -----------------------------------------------------------------------

LOCK_NAME = ".grnbench-run.lock"


def lock_path(results: str | os.PathLike) -> Path:
    return Path(os.path.abspath(results)) / LOCK_NAME


def _proc_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _me() -> dict:
    pid = os.getpid()
    return {"workdir": os.path.realpath(os.getcwd()), "pid": pid, "host": socket.gethostname(),
            "pid_start": _proc_start(pid), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _alive(holder: dict) -> bool:
    """Whether the lock's process may still run (another host: assume it does)."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        pid = int(holder["pid"])
        os.kill(pid, 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    start = holder.get("pid_start")
    return start is None or _proc_start(pid) in (None, start)


def _read(path: Path) -> dict | None:
    try:
        info = json.loads(path.read_text())
        return info if isinstance(info, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable or half-written: treated as stale


def lock_results(results: str | os.PathLike) -> Path:
    """Hold the results folder for this run; refuse one held by a run from another working
    directory (another checkout) that is still going. Returns the lock file."""
    path = lock_path(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = _me()
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if holder is None:
                continue  # removed meanwhile
            if holder.get("workdir") == me["workdir"]:
                if not _alive(holder) or holder.get("pid") == me["pid"]:
                    _write(path, me)
                return path  # same working directory: Snakemake's own lock arbitrates
            if _alive(holder):
                raise InputError(
                    path, f"the results folder {Path(path).parent} is in use by a run from another working directory "
                    f"({holder.get('workdir')}, pid {holder.get('pid')} on {holder.get('host')}, started "
                    f"{holder.get('started')}); two runs on one results folder would overwrite each other's files. "
                    "Wait for it to finish or use another results folder (--config results=...); if that run is "
                    "over (e.g. killed on another host), delete this file") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(me, indent=1) + "\n")
        return path
    raise InputError(path, "could not take the results-folder lock (another run keeps taking it); try again")


def _write(path: Path, info: dict) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info, indent=1) + "\n")
    os.replace(tmp, path)


def unlock_results(results: str | os.PathLike) -> None:
    """Release the lock if this process holds it (a run's end, successful or not)."""
    path = lock_path(results)
    holder = _read(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        path.unlink(missing_ok=True)
