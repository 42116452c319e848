"""A refresh killed with SIGKILL at any point leaves data/ whole: the old snapshot or the new one.

Each kill point is a call that changes the filesystem under the data folder's parent (the data
folder itself and the staged copy the refresh makes beside it): creating, copying, writing,
fsyncing, renaming, exchanging or deleting. A first run of the refresh in a subprocess counts
those calls; then, for each of them, a fresh subprocess runs the same refresh on its own copy of
the data and kills itself with SIGKILL just before that call. The parent then finds the folder
byte-identical to the snapshot before, or byte-identical to the snapshot an uninterrupted run
produced, and in both cases intact by its own manifest, and a later refresh works.

Offline as in tests/test_refresh_failures.py: yfinance's download and the SEC session are fakes,
the probes are skipped, the source addresses are a closed port of 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import config

HARNESS = "tests.test_reliability_refresh_kill"
PRIMITIVES = (
    ("os", "replace"), ("os", "rename"), ("os", "fsync"), ("os", "mkdir"), ("os", "rmdir"), ("os", "unlink"),
    ("os", "chmod"), ("shutil", "copyfile"), ("shutil", "copystat"), ("shutil", "rmtree"),
    ("tempfile", "mkdtemp"), ("tempfile", "mkstemp"),
)  # fmt: skip


def state(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}


# --- the subprocess side ----------------------------------------------------------------------------


def _install_kill_points(watched: Path, kill_at: int, counter: list[int]) -> None:
    """Wrap every filesystem primitive: a call touching ``watched`` (the data folder's parent)
    counts as one kill point; at number ``kill_at`` the process sends itself SIGKILL first."""
    import importlib

    from dashboard.loaders import snapshot

    def touches(args: tuple) -> bool:
        for value in args:
            if isinstance(value, int) and not isinstance(value, bool):  # a descriptor (fsync)
                try:
                    value = os.readlink(f"/proc/self/fd/{value}")
                except OSError:
                    continue
            if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
                try:
                    if Path(os.fspath(value)).resolve().is_relative_to(watched):
                        return True
                except (OSError, ValueError):
                    continue
        return False

    def wrap(function):
        def wrapped(*args, **kwargs):
            if touches(args) or touches(tuple(kwargs.values())):
                counter[0] += 1
                if counter[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return function(*args, **kwargs)

        return wrapped

    for module_name, name in PRIMITIVES:
        module = importlib.import_module(module_name)
        setattr(module, name, wrap(getattr(module, name)))
    snapshot._exchange = wrap(snapshot._exchange)
    # Path.write_text and write_bytes open the file themselves (the other Path methods go
    # through the os functions wrapped above).
    for name in ("write_text", "write_bytes"):
        setattr(Path, name, wrap(getattr(Path, name)))


def _run_refresh(data_dir: Path, cache: Path, kill_at: int, sweep: Path | None = None) -> dict:
    """The refresh every run performs: prices for AMZN and MSFT and AMZN's fundamentals.

    Returns {"inside": kill points inside the commit, "outside": kill points before or after it}.
    With ``sweep``, the staged datasets are committed not into ``data_dir`` but, once per kill
    point k, into a fresh copy ``sweep/kill-k/data`` by a forked child that SIGKILLs itself at
    point k (the fetching and staging is done once; every commit starts from the same state).
    """
    import requests
    import yfinance

    from dashboard.loaders import refresh as refresh_module
    from dashboard.loaders import sec, yahoo
    from tests.test_refresh_failures import CLOSED, SAMPLE, USER_AGENT, FakeSecSession, fake_download

    config.CACHE_DIR = cache
    os.environ[config.SEC_USER_AGENT_ENV] = USER_AGENT
    os.environ[yahoo.YAHOO_BASE_URL_ENV] = CLOSED
    os.environ[sec.SEC_BASE_URL_ENV] = CLOSED
    refresh_module.probe_source = lambda url, *, source, timeout=3.0: None

    def forbidden(*args, **kwargs):
        raise AssertionError("the harness tried to reach the network")

    requests.Session.request = forbidden
    yfinance.download = fake_download({"AMZN": [201.0, 202.0, 203.0], "MSFT": [401.0, 402.0, 403.0]})
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    counter = [0]
    commit = refresh_module._commit
    counts = {"inside": 0, "outside": 0}

    def counted_commit(target, *rest):
        counts["outside"] += counter[0]
        counter[0] = 0
        if sweep is None:
            written = commit(target, *rest)
            counts["inside"] = counter[0]
            counter[0] = 0
            return written
        return _sweep(commit, target, rest, sweep, kill_at)

    refresh_module._commit = counted_commit
    _install_kill_points(data_dir.resolve().parent, kill_at if sweep is None else 0, counter)
    refresh_module.refresh(tickers=["AMZN", "MSFT"], data_dir=data_dir, session=FakeSecSession(raw))
    counts["outside"] += counter[0]
    return counts


def _sweep(commit, data_dir: Path, rest: tuple, sweep: Path, points: int) -> dict:
    """For k = 1..points: copy ``data_dir`` to ``sweep/kill-k/data``, fork, and let the child run
    the real commit there, killing itself with SIGKILL at its k-th kill point."""
    for kill_at in range(1, points + 1):
        target = sweep / f"kill-{kill_at}" / "data"
        target.parent.mkdir(parents=True)
        shutil.copytree(data_dir, target)
        child = os.fork()
        if child == 0:  # the child: the commit only (no threads, no Parquet), then SIGKILL or exit 0
            try:
                counter = [0]
                _install_kill_points(target.resolve().parent, kill_at, counter)
                commit(target, *rest)
            finally:
                os._exit(0)
        _, status = os.waitpid(child, 0)
        print(json.dumps({"kill_at": kill_at, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}))
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--kill-at", type=int, default=0, help="kill at this kill point (0: never); with --sweep, the number of points")
    parser.add_argument("--sweep", type=Path, help="commit into one copy per kill point, each in a child killed there")
    args = parser.parse_args(argv)
    counts = _run_refresh(args.data, args.cache, args.kill_at, args.sweep)
    print(json.dumps(counts))
    return 0


# --- the test side ----------------------------------------------------------------------------------


def _harness(data_dir: Path, cache: Path, kill_at: int, sweep: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", HARNESS, "--data", str(data_dir), "--cache", str(cache), "--kill-at", str(kill_at)]
    return subprocess.run(
        command + (["--sweep", str(sweep)] if sweep else []), cwd=config.REPO_ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def _fresh(base: Path, name: str) -> Path:
    """A private copy of the frozen snapshot in its own folder (so staging siblings are its own)."""
    target = base / name / "data"
    target.parent.mkdir(parents=True)
    shutil.copytree(config.DATA_DIR, target)
    return target


def _cache(base: Path, name: str) -> Path:
    """The run's cache folder, outside the watched folder (its writes are not kill points)."""
    return base / "caches" / name


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    """(old state, complete new state, kill points inside the commit, work folder) from one
    uninterrupted run."""
    base = tmp_path_factory.mktemp("kill")
    data_dir = _fresh(base, "complete")
    old = state(data_dir)
    done = _harness(data_dir, _cache(base, "complete"), 0)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # Nothing outside the commit touches the data folder or its parent: fetching, staging and
    # validating happen in the cache folder.
    assert counts["outside"] == 0, counts
    new = state(data_dir)
    assert new != old and new[config.MANIFEST_FILE] != old[config.MANIFEST_FILE]
    return old, new, counts["inside"], base


def test_there_are_kill_points_in_the_commit(snapshots):
    _, _, points, _ = snapshots
    # The copy of the folder, the new files, the manifest, the fsyncs, the swap, the clean-up.
    assert points >= 10, points


def test_sigkill_at_every_kill_point_leaves_the_old_or_the_new_snapshot(snapshots):
    from dashboard.loaders import snapshot
    from dashboard.loaders.curated import load_manifest

    old, new, points, base = snapshots
    data_dir = _fresh(base, "sweep-source")
    done = _harness(data_dir, _cache(base, "sweep"), points, sweep=base / "sweep")
    assert done.returncode == 0, done.stderr[-3000:]
    assert state(data_dir) == old  # the sweep commits into the copies only
    killed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"kill_at"')]
    assert [k["kill_at"] for k in killed] == list(range(1, points + 1))
    assert all(k["signal"] == signal.SIGKILL for k in killed), [k for k in killed if k["signal"] != signal.SIGKILL]
    outcomes = {}
    for kill_at in range(1, points + 1):
        copy = base / "sweep" / f"kill-{kill_at}" / "data"
        after = state(copy)
        assert after in (old, new), f"kill point {kill_at}: data/ is neither the old nor the new snapshot"
        assert snapshot.snapshot_mismatches(copy) == [], kill_at
        assert load_manifest(copy)["data_version"]
        outcomes[kill_at] = "old" if after == old else "new"
    # Early kills keep the old snapshot, late ones leave the new one, and never back again.
    assert outcomes[1] == "old" and outcomes[points] == "new", outcomes
    assert list(outcomes.values()) == sorted(outcomes.values(), key=lambda v: v == "new"), outcomes
    print(f"{points} kill points: {sum(v == 'old' for v in outcomes.values())} old, {sum(v == 'new' for v in outcomes.values())} new")


def test_a_refresh_killed_in_its_commit_then_run_again(snapshots):
    old, new, points, base = snapshots
    data_dir = _fresh(base, "again")
    done = _harness(data_dir, _cache(base, "again"), points // 2)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert state(data_dir) in (old, new)
    done = _harness(data_dir, _cache(base, "again"), 0)
    assert done.returncode == 0, done.stderr[-2000:]
    assert state(data_dir) == new
    assert not [p.name for p in data_dir.parent.iterdir() if p.name.startswith(".data.")]  # leftovers removed


if __name__ == "__main__":
    sys.exit(main())
