"""What the benchmark drivers (``bench_*.py``) share: the original's venv, running a side, the table.

Each benchmark compares this repository's provider with the original ``django-storages`` 1.14.6
on the same local server. Both distributions fill the ``storages`` namespace, so each side runs
the same workload script in its own process: ours with this Python (hatch's ``bench`` env),
the original with a venv under ``.bench/`` that ``original_python`` creates once.

The workload is a script held as a string in each ``bench_*.py``. ``run_side`` / ``run_worker``
write it into a fresh temporary folder beside a copy of ``_workload_common.py`` (the helpers
that run inside either venv: see its docstring for why it is a file and not a prelude string)
and run it there; it prints one ``RESULTS {json}`` line, which comes back as a dict.

- ``run_side`` (S3, GCS, Azure: one process per side, many measurements) raises when the
  workload fails, after printing the end of its output; ``print_table`` prints both sides'
  results with their ratios.
- ``run_worker`` (SFTP, FTP, Dropbox, libcloud: one process per measurement) returns
  ``{"error": last line of stderr}`` instead, which those scripts show in their own tables.

Importing this module puts the repository root on ``sys.path``, for ``shared.testservers``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BENCH = REPO / ".bench"
ORIGINAL = "django-storages==1.14.6"
WORKLOAD_COMMON = HERE / "_workload_common.py"
#: ``--size`` in MiB under ``--quick``, for the benchmarks that move a size given in MiB.
QUICK_MIB = 16

sys.path.insert(0, str(REPO))

Results = dict[str, dict[str, Any]]


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line: the docstring's first line as description, and ``--quick``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    return parser


def sized_parser(doc: str | None, moved: str = "moved each way") -> argparse.ArgumentParser:
    """``parser`` with ``--size`` (MiB, 256 by default) and ``--skip-original``: see ``size_mib``."""
    parser_ = parser(doc)
    parser_.add_argument("--size", type=int, default=256, help=f"MiB {moved} (default 256)")
    parser_.add_argument("--skip-original", action="store_true", help="do not measure django-storages 1.14.6")
    return parser_


def size_mib(args: argparse.Namespace) -> int:
    """The MiB to move: ``--size``, or ``QUICK_MIB`` under ``--quick``."""
    return QUICK_MIB if args.quick else int(args.size)


def mb_per_s(result: Mapping[str, Any]) -> float:
    """A worker's throughput: its ``bytes`` over its ``seconds``, in MB/s."""
    return float(result["bytes"]) / float(result["seconds"]) / 1e6


def rss_mib(result: Mapping[str, Any]) -> float:
    """A worker's peak RSS above its baseline, in MiB."""
    return float(result["rss_above_baseline_kib"]) / 1024


def original_python(venv_dir: Path, requirements: Sequence[str]) -> str:
    """The Python of ``venv_dir`` holding the original (``requirements``, installed on first use)."""
    python = venv_dir / "bin" / "python"
    marker = venv_dir / ".installed"
    # Venvs made before the marker (the S3 and GCS ones) count once pip has installed the original.
    made_before = python.exists() and any(
        venv_dir.glob("lib/python*/site-packages/django_storages-1.14.6.dist-info")
    )
    if not marker.exists() and not made_before:
        print(f"Installing {', '.join(requirements)} into {venv_dir} ...", flush=True)
        venv.create(venv_dir, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
        marker.write_text("\n".join(requirements) + "\n")
    return str(python)


def workload_env(drop: tuple[str, ...] = (), **overrides: str) -> dict[str, str]:
    """This environment without ``PYTHONPATH`` (each side imports its own ``storages``), nor the
    variables starting with one of ``drop``, and with ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not (drop and k.startswith(drop))}
    env.update(overrides)
    return env


def _run(
    python: str,
    workload: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    timeout: float | None,
    check: bool,
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="storages-bench-") as folder:
        script = Path(folder) / "workload.py"
        script.write_text(workload)
        shutil.copy(WORKLOAD_COMMON, folder)
        return subprocess.run(
            [python, str(script), *argv],
            check=check,
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else workload_env(),
            cwd=folder,
            timeout=timeout,
        )


def _results(stdout: str) -> dict[str, Any]:
    line = next((x for x in stdout.splitlines() if x.startswith("RESULTS ")), None)
    if line is None:
        raise RuntimeError(f"no RESULTS line in the workload's output: {stdout[-3000:]}")
    return dict(json.loads(line[len("RESULTS ") :]))


def run_side(
    python: str,
    workload: str,
    argv: Sequence[object],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Results:
    """One side's results; raises when the workload fails, after printing the end of its output."""
    try:
        output = _run(python, workload, [str(a) for a in argv], env, timeout, check=True)
    except subprocess.CalledProcessError as exc:
        print(exc.stdout[-3000:], exc.stderr[-3000:])
        raise
    return _results(output.stdout)


def run_both(
    original: str,
    workload: str,
    argv: Sequence[object],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[Results, Results]:
    """Ours, then the original (Python ``original``): the workload's arguments are the side, then ``argv``."""
    ours = run_side(sys.executable, workload, ["ours", *argv], env=env, timeout=timeout)
    theirs = run_side(original, workload, ["original", *argv], env=env, timeout=timeout)
    return ours, theirs


def run_worker(
    python: str, workload: str, config: Mapping[str, Any], *, timeout: float = 1800
) -> dict[str, Any]:
    """One measurement (``config`` is the workload's first argument, as JSON), or ``{"error": ...}``."""
    result = _run(python, workload, [json.dumps(config)], None, timeout, check=False)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return _results(result.stdout)


def _calls(label: str) -> int:
    """How many calls a row's label says it made (``exists() x1000``); ``listdir`` is one."""
    return 1 if label.startswith("listdir") else int(label.split("x")[-1])


def print_table(
    ours: Results,
    original: Results,
    *,
    width: int,
    counted: str,
    cpu_per_call: bool = False,
    notes: Sequence[str] = (),
) -> None:
    """Both sides' results, row by row in our order, with the ratio original / ours.

    A row's time is its ``per_call_us`` when it has one, else its ``seconds``. The extra column
    shows, when the row has them: MB/s and peak RSS (``transfer``), the time to the first byte
    (``ttfb_ms`` or ``ttfb_s``) and, with ``cpu_per_call``, the client CPU per call of the
    ``exists``, ``size`` and ``listdir`` rows. Rows with ``throughput_pct`` (per-round ratios of
    two alternated transfers of ours) or ``load`` (the load average) are printed as they are.
    Then ``notes``, and the footnote saying how requests were ``counted``.
    """
    print()
    header = f"{'benchmark':{width}} {'original':>12} {'ours':>12} {'ratio':>8} {'req orig':>9} {'req ours':>9}  extra"
    print(header)
    print("-" * len(header))
    for label, mine in ours.items():
        theirs = original.get(label, {})
        if "throughput_pct" in mine:
            print(
                f"{label:{width}} (ours, same process, alternated) throughput % of upload_fileobj "
                f"{mine['throughput_pct']}; peak RSS % {mine['rss_pct']}"
            )
            continue
        if "load" in mine:
            print(f"{label:{width}} ours {mine['load']}, original {theirs.get('load')} (1, 5, 15 min)")
            continue
        metric = "per_call_us" if "per_call_us" in mine else "seconds"
        unit = "us" if metric == "per_call_us" else "s"
        a, b = theirs.get(metric, float("nan")), mine[metric]
        ratio = a / b if b else float("inf")
        extra = ""
        if cpu_per_call and label.startswith(("exists", "size", "listdir")):
            calls = _calls(label)
            extra = (
                f"client CPU per call {theirs.get('cpu', float('nan')) / calls * 1e6:,.0f} -> "
                f"{mine['cpu'] / calls * 1e6:,.0f} us"
            )
        if "mb_per_s" in mine:
            extra = (
                f"MB/s {theirs.get('mb_per_s', 0):.0f} -> {mine['mb_per_s']:.0f}; peak RSS +MB "
                f"{theirs.get('peak_rss_mb', 0):.0f} -> {mine['peak_rss_mb']:.0f}"
            )
        if "ttfb_ms" in mine:
            extra += f"; first byte ms {theirs.get('ttfb_ms', 0):.0f} -> {mine['ttfb_ms']:.0f}"
        if "ttfb_s" in mine:
            extra += f"; first byte {theirs.get('ttfb_s', 0):.2f}s -> {mine['ttfb_s']:.2f}s"
        print(
            f"{label:{width}} {a:>10.3f}{unit:2} {b:>10.3f}{unit:2} {ratio:>7.1f}x "
            f"{int(theirs.get('requests', 0)):>9} {int(mine['requests']):>9}  {extra}"
        )

    footnote = f"ratio = original / ours (higher is better for ours); requests counted {counted}."
    print("\n" + "\n".join([*notes, footnote]))
