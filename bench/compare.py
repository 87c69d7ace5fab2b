"""Run the HTTP, search and newsletter benchmarks on two checkouts, side by side.

    bench/compare.py BEFORE AFTER [--rounds 3]

BEFORE and AFTER are checkouts of Clarion, each with its own `.venv` (`make install`).
Each round runs every benchmark on both, in alternating order (before first in odd rounds,
after first in even ones), so a machine that gets busier or quieter during the command
weighs on both alike. It prints each figure's median per checkout and the ratio
after / before; the benchmarks' own reference runs (nginx for HTTP, bare smtplib for the
newsletter) are in the same rows. Traffic goes only to 127.0.0.1, as in each benchmark.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Each benchmark: its script and arguments (kept small enough that three rounds on both
# checkouts take about a quarter of an hour on two cores), and the figures read from its
# output: (name, regular expression whose first group is the number, higher is better).
BENCHMARKS = {
    "http": (
        ["bench/http_bench.py", "--runs", "1", "--duration", "4", "--posts", "300"],
        [
            ("nginx post, req/s (reference)", r"^nginx post\s+(\d+)", True),
            ("cold post, req/s", r"^cold post\s+(\d+)", True),
            ("cold home, req/s", r"^cold home\s+(\d+)", True),
            ("warm post, req/s", r"^warm post\s+(\d+)", True),
            ("warm post vs nginx, %", r"^warm post\s+\d+\s+([\d.]+)%", True),
            ("warm post -c64 p99, ms", r"^warm post -c64\s+\d+\s+[\d.]+%\s+([\d.]+)", False),
        ],
    ),
    "search": (
        ["bench/search.py", "--posts", "10000", "--passes", "2"],
        [
            ("search function p50, ms", r"^\s+search function\s+\d+\s+([\d.]+)", False),
            ("prefix search p50, ms", r"^\s+search function, prefixes\s+\d+\s+([\d.]+)", False),
            ("/search/ page p50, ms", r"^\s+/search/ page\s+\d+\s+([\d.]+)", False),
            ("/search/suggest/ p50, ms", r"^\s+/search/suggest/\s+\d+\s+([\d.]+)", False),
            (
                "page chrome p50, ms (reference)",
                r"^\s+/search/\?q= \(page chrome only\)\s+\d+\s+([\d.]+)",
                False,
            ),
        ],
    ),
    "newsletter": (
        ["bench/notify.py", "--n", "10000"],
        [
            ("sending rate, msg/s", r"sending rate ([\d,]+) msg/s", True),
            ("ceiling, msg/s (reference)", r"^ceiling .*?, ([\d,]+) msg/s", True),
            ("sending rate / ceiling, %", r"sending rate / ceiling: (\d+)%", True),
            ("fan-out, s", r"^fan-out .*: ([\d.]+) s", False),
        ],
    ),
}


def run(checkout: Path, label: str, name: str) -> dict[str, float]:
    script, figures = BENCHMARKS[name]
    args = list(script)
    if name == "search":
        # Each checkout keeps its own generated posts between rounds.
        args += ["--data-dir", f"/tmp/clarion-compare-search-{label}"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    started = time.monotonic()
    result = subprocess.run(
        [str(checkout / ".venv/bin/python"), *args],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"{name} failed on {checkout} ({label})")
    found = {}
    for figure, pattern, _ in figures:
        matches = re.findall(pattern, result.stdout, re.MULTILINE)
        if not matches:
            raise SystemExit(f"{name} on {label}: no figure {figure!r} in its output")
        found[figure] = float(matches[-1].replace(",", ""))
    print(f"  {name:<10} {label:<6} {time.monotonic() - started:5.0f} s", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    options = parser.parse_args()
    names = options.only or list(BENCHMARKS)
    checkouts = {"before": options.before.resolve(), "after": options.after.resolve()}
    for label, checkout in checkouts.items():
        subprocess.run(["git", "-C", str(checkout), "log", "-1", f"--format={label}: %h %s"])
    samples: dict[tuple[str, str], dict[str, list[float]]] = {}
    for round_ in range(1, options.rounds + 1):
        print(f"round {round_}", flush=True)
        order = ["before", "after"] if round_ % 2 else ["after", "before"]
        for name in names:
            for label in order:
                for figure, value in run(checkouts[label], label, name).items():
                    samples.setdefault((name, figure), {}).setdefault(label, []).append(value)
    print(f"\nmedians of {options.rounds} rounds; load average {os.getloadavg()[0]:.1f}")
    print(f"{'benchmark':<11}{'figure':<36}{'before':>10}{'after':>10}{'after/before':>14}")
    for name in names:
        for figure, _, higher_is_better in BENCHMARKS[name][1]:
            values = samples[(name, figure)]
            before = statistics.median(values["before"])
            after = statistics.median(values["after"])
            ratio = after / before if before else float("nan")
            better = (
                ""
                if "reference" in figure
                else ("  (higher is better)" if higher_is_better else "  (lower is better)")
            )
            print(f"{name:<11}{figure:<36}{before:>10,.2f}{after:>10,.2f}{ratio:>13.2f}×{better}")


if __name__ == "__main__":
    main()
