"""Benchmarks: presales-sim against a bare SimPy model and Ciw, and at scale.

``python -m benchmarks.run`` (``make bench``) runs the reduced sizes, which fit
in CI's time; ``--full`` runs the sizes the targets are stated for. Each
measurement runs in a fresh Python process, so its peak memory (the
process's maximum resident set, from ``resource.getrusage``) is its own, and
the runner prints one table. Every target is a ratio of two timings taken in
the same session, so a slower or busier machine moves both sides.

Measurements:

* ``queue``: M/M/c with c = 10 at load 0.9, run by the engine's degenerate
  queue-mode scenario, by a bare SimPy model and by Ciw; each run's mean wait
  is compared with Erlang C (within three batch-means standard errors).
* ``enterprise``: one replication of ``scenarios/enterprise.toml`` (via
  ``benchmarks.make_enterprise``), its time, peak memory and cost per ticket,
  against a bare SimPy M/M/c model with as many customers.
* ``scaling``: the enterprise scenario at half its engineers and demand, so
  that doubling both can be timed; memory per ticket at both sizes.
* ``sweep``: 16 replications serially and on 2 local worker processes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is."""

    customers: int
    enterprise_scale: float
    enterprise_days: int
    sweep_scenario: str
    sweep_days: int
    replications: int = 16
    workers: int = 2


REDUCED = Sizes(20_000, 0.1, 365, "scenarios/crm_calibrated.toml", 60)
FULL = Sizes(200_000, 1.0, 365, "scenarios/crm_calibrated.toml", 91)
TOY = Sizes(500, 0.01, 20, "scenarios/small.toml", 10, replications=2)

SERVERS, LOAD = 10, 0.9


# -- the measurements, each run inside its own process ---------------------------


def mmc_config(
    servers: int, arrival_rate: float, service_rate: float, customers: int, seed: int
) -> dict[str, Any]:
    """The engine's degenerate M/M/c scenario, long enough for ``customers``."""
    days = max(1, math.ceil(customers / arrival_rate / 24.0))
    return {
        "regions": ["Hub"],
        "solutions": ["S"],
        "scenario": {
            "name": "mmc",
            "horizon_days": days,
            "warmup_days": 0,
            "seed": seed,
        },
        "calendar": {"working_hours": [[0, 24]], "weekdays": list(range(7))},
        "grades": [{"name": "standard", "hourly_rate": 100.0}],
        "engineers": {
            "pools": [
                {
                    "region": "Hub",
                    "grade": "standard",
                    "count": servers,
                    "proficiency": {"S": 3},
                }
            ]
        },
        "budget": {"unlimited": True},
        "demand": {
            "mode": "queue",
            "queue": [
                {
                    "region": "Hub",
                    "solution": "S",
                    "rate_per_hour": arrival_rate,
                    "hours_mean": 1.0 / service_rate,
                }
            ],
        },
        "dispatch": {
            "policy": "direct",
            "ranking": "earliest",
            "max_wait_hours": math.inf,
        },
        "grab": {"enabled": False},
        "control": {"playbooks": []},
    }


def wait_check(
    waits: list[float], servers: int, arrival_rate: float, service_rate: float
) -> dict[str, float]:
    """Mean wait against Erlang C, with a batch-means standard error.

    The first 2% of customers (the empty start) are dropped; the rest are cut
    into 20 batches in arrival order.
    """
    from sim.queueing import erlang_c, mmc_mean_wait

    kept = waits[len(waits) // 50 :]
    size = max(1, len(kept) // 20)
    means = [statistics.fmean(kept[i : i + size]) for i in range(0, size * 20, size)]
    means = [m for m in means if not math.isnan(m)]
    mean = statistics.fmean(kept)
    se = statistics.stdev(means) / math.sqrt(len(means)) if len(means) > 1 else 0.0
    theory = mmc_mean_wait(arrival_rate, service_rate, servers)
    p_wait = sum(w > 1e-12 for w in kept) / len(kept)
    return {
        "mean_wait": mean,
        "erlang_wait": theory,
        "wait_se": se,
        "p_wait": p_wait,
        "erlang_p_wait": erlang_c(servers, arrival_rate / service_rate),
        "agrees": float(abs(mean - theory) <= 3 * se),
    }


def _queue_engine(spec: dict) -> dict:
    from models.runner import run_scenario
    from models.scenario import scenario_from_dict

    lam = spec["load"] * spec["servers"]
    scenario = scenario_from_dict(
        mmc_config(spec["servers"], lam, 1.0, spec["customers"], spec["seed"])
    )
    started, cpu = time.perf_counter(), time.process_time()
    result = run_scenario(scenario)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    tickets = result.tables["tickets"]
    started_ = tickets[tickets["delay_class"] != ""].sort_values("ticket")
    waits = started_["delay_hours"].tolist()
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "customers": len(tickets),
        **wait_check(waits, spec["servers"], lam, 1.0),
    }


def _queue_peer(spec: dict, module: str) -> dict:
    if module == "simpy":
        from benchmarks import bare_simpy as peer
    else:
        from benchmarks import ciw_model as peer
    lam = spec["load"] * spec["servers"]
    started, cpu = time.perf_counter(), time.process_time()
    waits = peer.simulate(spec["servers"], lam, 1.0, spec["customers"], spec["seed"])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "customers": len(waits),
        **wait_check(waits, spec["servers"], lam, 1.0),
    }


def _enterprise(spec: dict) -> dict:
    from benchmarks.make_enterprise import enterprise
    from models.runner import run_scenario
    from models.scenario import scenario_from_dict

    scenario = scenario_from_dict(enterprise(spec["scale"], spec["days"]))
    started, cpu = time.perf_counter(), time.process_time()
    result = run_scenario(scenario)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    log = result.model.log
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "customers": len(result.model.tickets),
        "engineers": len(result.model.engineers),
        "events": len(log),
        "log_mib": log.nbytes() / 2**20,
        "fill_rate": result.outcomes["fill_rate"],
        "grab_orders": result.outcomes["grab_orders"],
        "alerts": result.outcomes["alerts"],
    }


def _sweep(spec: dict) -> dict:
    import tomllib

    from sim.executors import make_executor
    from sim.experiment import run_experiment

    with open(os.path.join(ROOT, spec["scenario"]), "rb") as handle:
        config = tomllib.load(handle)
    config.setdefault("scenario", {})["horizon_days"] = spec["days"]
    times = {}
    for name, executor, workers in (
        ("serial", "serial", None),
        ("processes", "processes", spec["workers"]),
    ):
        options = {"workers": workers} if workers else {}
        with make_executor(executor, **options) as pool:
            # Start the workers and import the model in each before timing.
            list(pool.map_unordered(_warm, [0.5] * (workers or 1)))
            started = time.perf_counter()
            frame = run_experiment(
                timed_replication,
                config,
                replications=spec["replications"],
                executor=pool,
                progress=False,
            )
            times[name] = time.perf_counter() - started
        times[f"{name}_cpu"] = float(frame["bench_cpu"].mean())
        times[f"{name}_wall"] = float(frame["bench_wall"].mean())
    return {
        "seconds": times["processes"],
        "serial_seconds": times["serial"],
        "customers": spec["replications"],
        **{k: v for k, v in times.items() if k.endswith(("_cpu", "_wall"))},
    }


def timed_replication(config: dict, seed) -> dict[str, float]:
    """One replication's outcomes plus its own CPU and wall seconds."""
    from models.runner import replication_outcomes

    started, cpu = time.perf_counter(), time.process_time()
    outcomes = dict(replication_outcomes(config, seed))
    outcomes["bench_cpu"] = time.process_time() - cpu
    outcomes["bench_wall"] = time.perf_counter() - started
    return outcomes


def _warm(pause: float) -> int:
    """Import the model in a worker, then hold it so that every worker starts."""
    import models.runner  # noqa: F401

    time.sleep(pause)
    return os.getpid()


def measure(spec: dict) -> dict:
    """Run one measurement in this process and return its figures.

    Args:
        spec: ``{"kind": ..., ...}``; kinds are ``engine``, ``simpy``, ``ciw``
            (queue mode), ``enterprise`` and ``sweep``.

    Returns:
        ``seconds``, ``customers`` (customers, tickets or replications),
        ``peak_mib`` and the kind's own figures.
    """
    kind = spec["kind"]
    if kind == "engine":
        out = _queue_engine(spec)
    elif kind in ("simpy", "ciw"):
        out = _queue_peer(spec, kind)
    elif kind == "enterprise":
        out = _enterprise(spec)
    elif kind == "sweep":
        out = _sweep(spec)
    else:
        raise ValueError(f"unknown measurement {kind!r}")
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure_in_subprocess(spec: dict) -> dict:
    """Run :func:`measure` in a fresh interpreter (its own peak memory)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--measure", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"measurement {spec['kind']} failed:\n{done.stderr.strip()[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the session: every measurement, then one table ----------------------------


def run_all(sizes: Sizes, runner=measure_in_subprocess, echo=print) -> list[dict]:
    """Run every measurement at ``sizes`` and return the table's rows."""
    queue = {"servers": SERVERS, "load": LOAD, "customers": sizes.customers}
    results: dict[str, dict] = {}
    plan = [
        ("engine", {"kind": "engine", **queue, "seed": 11}),
        ("simpy", {"kind": "simpy", **queue, "seed": 11}),
        ("ciw", {"kind": "ciw", **queue, "seed": 11}),
        (
            "enterprise",
            {
                "kind": "enterprise",
                "scale": sizes.enterprise_scale,
                "days": sizes.enterprise_days,
            },
        ),
        (
            "half",
            {
                "kind": "enterprise",
                "scale": sizes.enterprise_scale / 2,
                "days": sizes.enterprise_days,
            },
        ),
    ]
    for name, spec in plan:
        echo(f"measuring {name} ...", file=sys.stderr)
        results[name] = runner(spec)
    tickets = results["enterprise"]["customers"]
    echo("measuring simpy at the enterprise's ticket count ...", file=sys.stderr)
    results["simpy_same"] = runner(
        {
            "kind": "simpy",
            "servers": SERVERS,
            "load": LOAD,
            "customers": tickets,
            "seed": 12,
        }
    )
    echo("measuring sweep ...", file=sys.stderr)
    results["sweep"] = runner(
        {
            "kind": "sweep",
            "scenario": sizes.sweep_scenario,
            "days": sizes.sweep_days,
            "replications": sizes.replications,
            "workers": sizes.workers,
        }
    )
    return table_rows(results)


def _cpu(r: dict) -> float:
    """CPU seconds of a one-process measurement (wall seconds otherwise).

    Other work on the machine slows the wall clock of both sides of a ratio
    unevenly; the process's own CPU time does not depend on it.
    """
    return r.get("cpu_seconds", r["seconds"])


def _per(r: dict) -> float:
    """CPU microseconds per customer, ticket or replication."""
    return _cpu(r) / max(1, r["customers"]) * 1e6


def table_rows(r: dict[str, dict]) -> list[dict]:
    """The table's rows from the raw measurements, with ratios and targets."""
    rows = []

    def row(what, m, ratio="", target="", met=None, note=""):
        rows.append(
            {
                "measurement": what,
                "n": m.get("customers", ""),
                "seconds": m.get("seconds", math.nan),
                "cpu": m.get("cpu_seconds", math.nan),
                "us_per": _per(m) if m else math.nan,
                "peak_mib": m.get("peak_mib", math.nan),
                "ratio": ratio,
                "target": target,
                "met": "" if met is None else ("yes" if met else "NO"),
                "note": note,
            }
        )

    eng, spy, ciw = r["engine"], r["simpy"], r["ciw"]
    for name, m in (("queue: bare SimPy", spy), ("queue: Ciw", ciw)):
        row(name, m, note=_wait_note(m), met=bool(m["agrees"]), target="Erlang C")
    slow_vs_simpy = _per(eng) / _per(spy)
    row(
        "queue: presales-sim",
        eng,
        f"{slow_vs_simpy:.2f}x SimPy",
        "<= 2x SimPy",
        slow_vs_simpy <= 2.0 and bool(eng["agrees"]),
        _wait_note(eng),
    )
    fast_vs_ciw = _per(ciw) / _per(eng)
    row(
        "queue: presales-sim vs Ciw",
        eng,
        f"{fast_vs_ciw:.2f}x faster",
        ">= 2x faster",
        fast_vs_ciw >= 2.0,
    )
    ent, same = r["enterprise"], r["simpy_same"]
    per_ratio = _per(ent) / _per(same)
    row(
        "enterprise: one replication",
        ent,
        f"{per_ratio:.1f}x SimPy/customer",
        "<= 60 s, <= 2048 MiB, <= 10x",
        _cpu(ent) <= 60 and ent["peak_mib"] <= 2048 and per_ratio <= 10,
        f"{ent['engineers']} engineers, {ent['events']} events, "
        f"log {ent['log_mib']:.0f} MiB",
    )
    row("enterprise: bare SimPy, same customers", same)
    half = r["half"]
    doubling = _cpu(ent) / _cpu(half)
    flat = _per(ent) / _per(half)
    row(
        "scaling: half engineers + demand",
        half,
        f"x2 costs {doubling:.2f}x",
        "<= 2.2x",
        doubling <= 2.2,
        f"per ticket x{flat:.2f} at twice the pool",
    )
    extra = ent["customers"] - half["customers"]
    grow = (ent["peak_mib"] - half["peak_mib"]) / max(1, extra) * 1000
    rows[-1]["note"] += (
        f"; peak {half['peak_mib']:.0f} -> {ent['peak_mib']:.0f} MiB "
        f"({grow:.1f} MiB per extra 1k tickets), log "
        f"{half['log_mib'] * 2**20 / max(1, half['events']):.0f} -> "
        f"{ent['log_mib'] * 2**20 / max(1, ent['events']):.0f} B/event"
    )
    sw = r["sweep"]
    speedup = sw["serial_seconds"] / sw["seconds"]
    row(
        "sweep: 2 workers vs serial",
        sw,
        f"{speedup:.2f}x",
        ">= 1.8x",
        speedup >= 1.8,
        f"serial {sw['serial_seconds']:.1f} s; per replication CPU "
        f"{sw['serial_cpu']:.2f} s serial, {sw['processes_cpu']:.2f} s in a worker "
        f"(wall {sw['serial_wall']:.2f} / {sw['processes_wall']:.2f} s)",
    )
    return rows


def _wait_note(m: dict) -> str:
    return (
        f"Wq {m['mean_wait']:.3f}±{3 * m['wait_se']:.3f} vs {m['erlang_wait']:.3f}; "
        f"P(wait) {m['p_wait']:.3f} vs {m['erlang_p_wait']:.3f}"
    )


def format_table(rows: list[dict]) -> str:
    """The rows as a fixed-width text table."""
    heads = [
        ("measurement", "measurement", "{}"),
        ("n", "n", "{}"),
        ("seconds", "wall s", "{:.2f}"),
        ("cpu", "cpu s", "{:.2f}"),
        ("us_per", "cpu us/each", "{:.1f}"),
        ("peak_mib", "peak MiB", "{:.0f}"),
        ("ratio", "ratio", "{}"),
        ("target", "target", "{}"),
        ("met", "met", "{}"),
        ("note", "note", "{}"),
    ]
    cells = [[title for _, title, _ in heads]]
    for r in rows:
        cells.append([fmt.format(r[key]) for key, _, fmt in heads])
    widths = [max(len(c[i]) for c in cells) for i in range(len(heads))]
    lines = [
        "  ".join(c[i].ljust(widths[i]) for i in range(len(heads))).rstrip()
        for c in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the targets' sizes")
    parser.add_argument("--toy", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return 0
    sizes = TOY if args.toy else FULL if args.full else REDUCED
    started = time.perf_counter()
    rows = run_all(sizes, echo=lambda *a, **k: print(*a, **k, flush=True))
    label = "toy" if args.toy else "full" if args.full else "reduced"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"presales-sim benchmarks ({label} size, "
        f"{time.perf_counter() - started:.0f} s; load average at the end {load}; "
        "ratios from CPU time, sweep from wall time)"
    )
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
