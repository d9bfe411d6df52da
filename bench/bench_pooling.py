"""Benchmark: dryneedling's pool()/pool_many() beside statsmodels' combine_effects and R metafor's rma().

Run: ``python bench/bench_pooling.py`` (add ``--quick`` for a smaller run). Not a timed test: numbers depend
on the machine and its load, so the script prints what it measured and the ratios, all in one process run.

What it measures
- per-fit latency of ``pool(method="REML")`` for k = 10, 20, 50, 500;
- one batch of 2,000 REML analyses of k = 20 via ``pool_many`` (one vectorised call);
- statsmodels 0.15 ``combine_effects``: it has no REML, so its Paule-Mandel (``method_re="iterated"``) is
  timed beside ours, and its DL is used in the numbers check;
- metafor ``rma()`` (when Rscript with metafor is installed): one Rscript process times its own loop over
  the same 2,000 data sets with default settings (counting Fisher-scoring failures), then refits them with
  tight convergence control for the numbers check.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from dryneedling.evidence import pool, pool_many

SEED = 20261121


def make_batch(n_groups: int, k: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordinary meta-analyses: v ~ chi2_3/20 + 0.01, y ~ N(0.3, v + tau^2), tau^2 drawn from {0, .01, .1, .5}."""
    rng = np.random.default_rng(seed)
    v = rng.chisquare(3, size=(n_groups, k)) / 20 + 0.01
    tau2 = rng.choice([0.0, 0.01, 0.1, 0.5], size=(n_groups, 1))
    y = rng.normal(0.3, np.sqrt(v + tau2))
    return y, v, np.repeat(np.arange(n_groups), k)


def best_time(func, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` rounds, per call (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def statsmodels_available() -> bool:
    try:
        import statsmodels.stats.meta_analysis  # noqa: F401
    except ImportError:
        return False
    return True


def correctness_check(n_groups: int = 40, k: int = 8) -> dict[str, float]:
    """Largest relative differences: pool_many vs pool per group, and DL/PM vs statsmodels (where defined).

    statsmodels' DL is compared only where its tau^2 is non-negative (it does not truncate at 0).
    """
    y, v, ids = make_batch(n_groups, k)
    out: dict[str, float] = {}
    for method in ("REML", "DL", "PM"):
        batch = pool_many(y.ravel(), v.ravel(), ids, method=method)
        worst = 0.0
        for i in range(n_groups):
            single = pool(y[i], v[i], method=method)
            for field in ("estimate", "se", "tau2", "pi_low"):
                a, b = getattr(single, field), float(getattr(batch, field)[i])
                worst = max(worst, abs(a - b) / max(abs(a), 1e-12))
        out[f"pool_many_vs_pool_{method}"] = worst
    if statsmodels_available():
        from statsmodels.stats.meta_analysis import combine_effects

        for method, sm_name in (("DL", "chi2"), ("PM", "iterated")):
            worst = 0.0
            for i in range(n_groups):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sm = combine_effects(y[i], v[i], method_re=sm_name)
                if sm.tau2 < 0:
                    continue
                ours = pool(y[i], v[i], method=method)
                worst = max(worst, abs(ours.estimate - sm.mean_effect_re) / abs(ours.estimate))
            out[f"statsmodels_{method}_estimate"] = worst
    return out


_R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
groups <- split(d, d$g)
fail <- 0L
elapsed <- system.time(for (x in groups) {
  fit <- tryCatch(rma(x$yi, x$vi, method = "REML"), error = function(e) NULL)
  if (is.null(fit)) fail <- fail + 1L
})[["elapsed"]]
singles <- read.csv(args[2])
single_times <- sapply(split(singles, singles$k), function(x) {
  n <- max(5L, as.integer(2000 / nrow(x)))
  system.time(for (i in seq_len(n)) rma(x$yi, x$vi, method = "REML"))[["elapsed"]] / n
})
cat("batch_seconds", elapsed, "\n")
cat("batch_failures", fail, "\n")
for (k in names(single_times)) cat("single", k, single_times[[k]], "\n")
ctrl <- list(threshold = 1e-12, maxiter = 1000)
for (x in groups) {
  fit <- tryCatch(rma(x$yi, x$vi, method = "REML", control = ctrl),
                  error = function(e) rma(x$yi, x$vi, method = "REML", control = c(ctrl, stepadj = 0.5)))
  cat("fit", x$g[1], sprintf("%.17g", coef(fit)), sprintf("%.17g", fit$tau2), "\n")
}
"""


def run_metafor(
    y: np.ndarray, v: np.ndarray, singles: dict[int, tuple[np.ndarray, np.ndarray]]
) -> dict | None:
    """Time metafor's rma() loop inside one Rscript process; None when R/metafor is unavailable."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        batch_csv, single_csv, script = Path(tmp, "batch.csv"), Path(tmp, "single.csv"), Path(tmp, "bench.R")
        with batch_csv.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["g", "yi", "vi"])
            for g in range(y.shape[0]):
                writer.writerows((g, f"{a:.17g}", f"{b:.17g}") for a, b in zip(y[g], v[g], strict=True))
        with single_csv.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["k", "yi", "vi"])
            for k, (sy, sv) in singles.items():
                writer.writerows((k, f"{a:.17g}", f"{b:.17g}") for a, b in zip(sy, sv, strict=True))
        script.write_text(_R_SCRIPT)
        proc = subprocess.run(
            [rscript, str(script), str(batch_csv), str(single_csv)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    if proc.returncode != 0 or "batch_seconds" not in proc.stdout:
        print("metafor run failed:", proc.stderr.strip()[-500:], file=sys.stderr)
        return None
    out: dict = {"single": {}, "fits": {}}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts[0] == "batch_seconds":
            out["batch_seconds"] = float(parts[1])
        elif parts[0] == "batch_failures":
            out["batch_failures"] = int(parts[1])
        elif parts[0] == "single":
            out["single"][int(parts[1])] = float(parts[2])
        elif parts[0] == "fit":
            out["fits"][int(parts[1])] = (float(parts[2]), float(parts[3]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 groups instead of 2,000 and fewer repeats")
    parser.add_argument("--no-r", action="store_true", help="skip metafor even if Rscript is installed")
    args = parser.parse_args(argv)
    n_groups = 200 if args.quick else 2000
    k_batch = 20
    rng = np.random.default_rng(SEED + 1)
    singles = {}
    for k in (10, 20, 50, 500):
        sv = rng.chisquare(3, size=k) / 20 + 0.01
        singles[k] = (rng.normal(0.3, np.sqrt(sv + 0.1)), sv)

    print("correctness (max relative difference):")
    for name, value in correctness_check().items():
        print(f"  {name:34s} {value:.2e}")

    print("\nsingle REML fit, pool(): per-fit latency")
    ours_single = {}
    sm_single = {}
    have_sm = statsmodels_available()
    if have_sm:
        from statsmodels.stats.meta_analysis import combine_effects
    for k, (sy, sv) in singles.items():
        ours_single[k] = best_time(
            lambda sy=sy, sv=sv: pool(sy, sv, method="REML"), number=200 if args.quick else 1000
        )
        line = f"  k={k:<4d} ours {ours_single[k] * 1e6:8.1f} us"
        if have_sm:
            sm_single[k] = best_time(
                lambda sy=sy, sv=sv: combine_effects(sy, sv, method_re="iterated"),
                number=20 if args.quick else 100,
            )
            line += (
                f"   statsmodels PM {sm_single[k] * 1e6:8.1f} us ({sm_single[k] / ours_single[k]:.1f}x ours)"
            )
        print(line)

    y, v, ids = make_batch(n_groups, k_batch)
    yf, vf = y.ravel(), v.ravel()
    pool_many(yf, vf, ids)  # warm-up
    t_batch = best_time(lambda: pool_many(yf, vf, ids, method="REML"), repeat=3 if args.quick else 7)
    t_batch_pm = best_time(lambda: pool_many(yf, vf, ids, method="PM"), repeat=3 if args.quick else 7)
    t_loop = best_time(lambda: [pool(y[i], v[i]) for i in range(n_groups)], repeat=1 if args.quick else 3)
    print(f"\nbatch of {n_groups} REML analyses, k={k_batch}:")
    print(f"  pool_many (one call)          {t_batch:9.4f} s")
    print(f"  pool_many PM (one call)       {t_batch_pm:9.4f} s")
    print(f"  pool() in a Python loop       {t_loop:9.4f} s   ({t_loop / t_batch:.1f}x pool_many)")
    if have_sm:

        def sm_loop():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i in range(n_groups):
                    combine_effects(y[i], v[i], method_re="iterated")

        t_sm = best_time(sm_loop, repeat=1)
        print(f"  statsmodels PM loop           {t_sm:9.4f} s   ({t_sm / t_batch_pm:.1f}x pool_many PM)")

    metafor = None if args.no_r else run_metafor(y, v, singles)
    if metafor is None:
        print("\nmetafor: Rscript with metafor not available (or --no-r); skipped")
    else:
        print("\nmetafor rma(method='REML'), timed inside one Rscript process:")
        for k, seconds in sorted(metafor["single"].items()):
            print(f"  k={k:<4d} {seconds * 1e6:9.1f} us per fit   ({seconds / ours_single[k]:.1f}x ours)")
        print(
            f"  batch loop {metafor['batch_seconds']:.3f} s   ({metafor['batch_seconds'] / t_batch:.0f}x pool_many); "
            f"default Fisher scoring failed on {metafor['batch_failures']} of {n_groups}"
        )
        batch = pool_many(yf, vf, ids, method="REML")
        worst_est = max(
            abs(batch.estimate[g] - est) / max(abs(est), 1e-12) for g, (est, _) in metafor["fits"].items()
        )
        worst_tau = max(
            abs(batch.tau2[g] - tau2) / max(tau2, 1e-9) if tau2 > 1e-9 else abs(batch.tau2[g] - tau2)
            for g, (_, tau2) in metafor["fits"].items()
        )
        print(
            f"  numbers vs tightly converged metafor: estimate {worst_est:.2e}, tau^2 {worst_tau:.2e} (max rel.)"
        )
    print(
        f"\ntargets: batch < 0.05 s -> {'met' if t_batch < 0.05 else 'NOT met'} ({t_batch:.4f} s); ", end=""
    )
    print(
        f"single k=20 < 100 us -> {'met' if ours_single[20] < 1e-4 else 'NOT met'} ({ours_single[20] * 1e6:.1f} us)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
