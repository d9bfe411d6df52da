"""Benchmark: how fast the CLI starts, beside the floor of importing its two shell libraries.

Run: ``python bench/bench_startup.py`` (``--rounds N`` for more or fewer rounds). Not a timed test: numbers
depend on the machine and its load, so the script measures the floor and the commands in the same run,
interleaved round by round, and takes the best of each.

What it measures (each a fresh subprocess, output discarded)
- floor: ``python -c "import typer, rich"``, the least any Typer/Rich command line can cost;
- ``dryneedling --help``: target within 3x the floor;
- ``dryneedling atlas --pain temple,occiput``: builds the catalog and ranks the atlas; target within 4x.
  It runs with the validated-catalog cache in a fresh temporary directory (``DRYNEEDLING_CACHE_DIR``),
  warmed by one run before timing, as on a user's machine after the first command; the same command with
  the cache switched off (``DRYNEEDLING_CACHE_DIR=off``, full YAML parsing and validation) is shown too.

Exit status 1 when a target is missed (and the line says FAIL).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"--help": 3.0, "atlas": 4.0}


def command_prefix() -> list[str]:
    """The installed entry point beside this interpreter, else ``python -m dryneedling``."""
    script = Path(sys.executable).with_name("dryneedling")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("dryneedling")
    return [found] if found else [sys.executable, "-m", "dryneedling"]


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (best of N), default 7")
    args = parser.parse_args()
    prefix = command_prefix()
    with tempfile.TemporaryDirectory(prefix="dryneedling-bench-") as cache:
        warm = os.environ | {"DRYNEEDLING_CACHE_DIR": cache}
        cold = os.environ | {"DRYNEEDLING_CACHE_DIR": "off"}
        cases = {
            "floor": ([sys.executable, "-c", "import typer, rich"], warm),
            "--help": ([*prefix, "--help"], warm),
            "atlas": ([*prefix, "atlas", "--pain", "temple,occiput"], warm),
            "atlas (no cache)": ([*prefix, "atlas", "--pain", "temple,occiput"], cold),
        }
        for argv, env in cases.values():  # warm the OS file cache, the bytecode and the catalog cache
            run_once(argv, env)
        best = dict.fromkeys(cases, float("inf"))
        for _ in range(args.rounds):
            for name, (argv, env) in cases.items():
                best[name] = min(best[name], run_once(argv, env))

    print(f"CLI start-up, best of {args.rounds} rounds ({' '.join(prefix)}; Python {sys.version.split()[0]})")
    floor = best["floor"]
    failed = False
    for name, seconds in best.items():
        line = f"  {name:<18} {seconds * 1000:8.1f} ms"
        if name != "floor":
            ratio = seconds / floor
            line += f"   {ratio:5.2f}x floor"
            target = TARGETS.get(name)
            if target is not None:
                ok = ratio <= target
                failed |= not ok
                line += f"   target <= {target:g}x: {'ok' if ok else 'FAIL'}"
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
