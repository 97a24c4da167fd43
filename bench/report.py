"""Write benchmark results into docs/benchmarks.md, replacing only the sections this owns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TITLE = "# Benchmarks"
CONDITIONS = "## Benchmark conditions"
THROUGHPUT = "## Webhook and creation throughput"
SCALE = "## Pending-challenge scale"
MEMORY = "## Worker memory"
ROUNDTRIPS = "## Round trips (create, inbound SMS, status)"
RATIO_AIM = 0.5
FLAT_AIM = 0.8
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def write(results: dict[str, Any], path: Path, quick: bool = False) -> None:
    """Replace (or add) this report's sections in `path`, keeping every other section."""
    sections = {CONDITIONS: conditions(results, quick)}
    if results.get("throughput"):  # a partial run (--only) keeps the other sections as they are
        sections |= {THROUGHPUT: throughput(results), MEMORY: memory(results)}
    if results.get("scale"):
        sections[SCALE] = scale(results)
    if results.get("roundtrip"):
        from bench.roundtrip import section

        sections[ROUNDTRIPS] = section(results["roundtrip"])
    write_sections(sections, path)


def write_sections(sections: dict[str, str], path: Path) -> None:
    """Replace (or add) these sections in `path`, keeping every other section."""
    existing = path.read_text() if path.exists() else TITLE + "\n"
    head, order, bodies = _split(existing)
    for heading, body in sections.items():
        if heading not in bodies:
            order.append(heading)
        bodies[heading] = body
    text = head.rstrip() + "\n\n" + "\n".join(f"{h}\n\n{bodies[h].strip()}\n" for h in order)
    path.write_text(text)


def _split(text: str) -> tuple[str, list[str], dict[str, str]]:
    head: list[str] = []
    order: list[str] = []
    bodies: dict[str, list[str]] = {}
    current: list[str] = head
    for line in text.splitlines():
        if line.startswith("## "):
            order.append(line.strip())
            current = bodies.setdefault(line.strip(), [])
        else:
            current.append(line)
    return "\n".join(head), order, {k: "\n".join(v) for k, v in bodies.items()}


def conditions(results: dict[str, Any], quick: bool) -> str:
    m, o = results["machine"], results["options"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    engines = {
        r["engine"] for part in ("throughput", "scale") for r in results.get(part, {}).values()
    }
    workers = ", ".join(
        f"{r.get('workers', '?')} on {NAMES[n]}" for n, r in results.get("throughput", {}).items()
    )
    load = lambda xs: " / ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    lines = [
        "Written by `python bench/run.py`"
        + (" --quick: a SMOKE RUN, not figures of record." if quick else "."),
        "",
        f"- Date: {m['date']}; the whole run took {results['minutes']:.1f} minutes.",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; load average"
        f" (1/5/15 min) {load(m['load_before'])} before, {load(m['load_after'])} after."
        " The machine is shared: absolute figures move 10-35% between runs; compare ratios.",
        f"- Software: Python {m['python']}, {versions}; {', '.join(sorted(engines))}.",
        "- Servers: `reverse-otp serve` and the bare Flask app (`bench/bare.py`) on the same"
        " gunicorn settings (`app/cli/server.py`: gevent workers, as many as `serve` starts by"
        " default: " + workers + "), both on 127.0.0.1.",
        f"- Load: wrk, 2 threads, {o['connections']} connections, keep-alive;"
        f" {o['reps']} runs of {o['duration']} s per throughput figure and {o['reps']} runs"
        f" of {o['scale_duration']} s per scale figure, after a 2 s warm-up. Figures are"
        " medians of the runs; latencies are wrk's p50 and p99.",
    ]
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


# Ratios to bare Flask that docs/benchmarks.md aims at (issue "the hot path").
AIMS = {("postgresql", "webhook"): 0.33, ("sqlite", "webhook"): 0.4}
CREATE_AIM = 0.25


def throughput(results: dict[str, Any]) -> str:
    parts = results.get("throughput", {})
    rows = [
        "| engine | request | product req/s | bare req/s | ceiling req/s | product / bare (aim)"
        " | product / ceiling | product p50 / p99 ms | bare p50 / p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    rounds = [
        "",
        "Each round, one after the other: bare, ceiling, product; the load average (1/5/15"
        " min) is read as the round starts.",
        "",
        "| engine | round | request | product req/s | / bare | / ceiling | ceiling / bare"
        " | product p99 ms | load average |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in parts.items():
        hook = r["webhook_rps"] / r["bare_webhook_rps"]
        create = r["create_rps"] / r["bare_create_rps"]
        hook_aim = AIMS.get((name, "webhook"), 0.33)
        c_hook = r.get("ceiling_webhook_rps", 0.0)
        c_create = r.get("ceiling_create_rps", 0.0)
        rows.append(
            f"| {NAMES[name]} | webhook (verifies) | {r['webhook_rps']:,.0f} |"
            f" {r['bare_webhook_rps']:,.0f} | {c_hook:,.0f} |"
            f" {hook:.2f} (>= {hook_aim}: {_met(hook >= hook_aim)}) |"
            f" {r['webhook_rps'] / c_hook if c_hook else 0:.2f} |"
            f" {r['webhook_p50']:.1f} / {r['webhook_p99']:.1f} |"
            f" {r['bare_webhook_p50']:.1f} / {r['bare_webhook_p99']:.1f} |"
        )
        rows.append(
            f"| {NAMES[name]} | create challenge | {r['create_rps']:,.0f} |"
            f" {r['bare_create_rps']:,.0f} | {c_create:,.0f} |"
            f" {create:.2f} (>= {CREATE_AIM}: {_met(create >= CREATE_AIM)}) |"
            f" {r['create_rps'] / c_create if c_create else 0:.2f} |"
            f" {r['create_p50']:.1f} / {r['create_p99']:.1f} | - |"
        )
        for row in r.get("rounds", []):
            rounds.append(
                f"| {NAMES[name]} | {row['round']} | {row['what']} | {row['product_rps']:,.0f} |"
                f" {row['vs_bare']:.3f} | {row['vs_ceiling']:.3f} | {row['ceiling_vs_bare']:.3f} |"
                f" {row['p99_ms']:.1f} | {' / '.join(f'{x:.2f}' for x in row['load'])} |"
            )
        notes.append(
            f"- {NAMES[name]}: {r['webhooks_sent']:,} webhooks answered, {r['verified']:,}"
            f" challenges verified ({'consistent' if r['verified_ok'] else '**inconsistent**'});"
            f" {r['failures']} errors, non-2xx answers or reused bodies."
        )
    intro = (
        "Each webhook is a signed simulator request carrying the code of its own pending"
        " challenge, so every request takes the full path: verify the signature, parse, store"
        " the inbound message, look the code up, verify the challenge with a conditional"
        " update, record the outcome, commit, publish. Creation is `POST /api/v1/challenges`"
        " with `{}`. The bare endpoints answer a constant body; the ceiling endpoints"
        " (`bench/bare.py` with a PostgreSQL URL) make one durable PostgreSQL round trip each"
        " (`INSERT ... RETURNING` in autocommit) on the same Flask and gunicorn settings."
    )
    costs = [
        "",
        "What each request asks of the database (tests/test_round_trips.py counts it): on"
        " SQLite a verifying webhook is one transaction of three statements (the guarded"
        " `UPDATE ... RETURNING`, the message's `INSERT`, the sender's counter), the writers"
        " waiting together committing together with one fsync (`synchronous=FULL`); on"
        " PostgreSQL it is one call of the function `reverse_otp_settle_match` in autocommit:"
        " one round trip, one commit. A creation is one"
        " statement in autocommit on PostgreSQL (its limit counters chained in CTEs, then the"
        " `INSERT` under the pending cap) and one transaction of two statements on SQLite,"
        " after the API key's credential throttle reads its counter.",
    ]
    return "\n".join([intro, "", *rows, *rounds, "", *notes, *costs])


def scale(results: dict[str, Any]) -> str:
    parts = results.get("scale", {})
    rows = [
        "| engine | pending challenges | req/s | vs fewest | p50 / p99 ms | seeding s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for name, r in parts.items():
        sizes = list(r["sizes"].values())
        base = sizes[0]["rps"]
        for s in sizes:
            rows.append(
                f"| {NAMES[name]} | {s['pending']:,} | {s['rps']:,.0f} | {s['rps'] / base:.2f} |"
                f" {s['p50_ms']:.1f} / {s['p99_ms']:.1f} | {s['seed_seconds']:.0f} |"
            )
        worst = min(s["rps"] for s in sizes) / base
        verdicts.append(
            f"- {NAMES[name]}: slowest size at {worst:.2f} of the fewest: flat within 20%"
            f" {_met(worst >= FLAT_AIM)}."
        )
    intro = (
        "Pending challenges are bulk-inserted (COPY on PostgreSQL, executemany on SQLite) and"
        " analysed. Each webhook carries the code of one of them, drawn at random, from a"
        " sender other than the phone it expects: the same lookup, conditional update and"
        " inbound insert as a verification, but the challenge stays pending (its attempt limit"
        " is set out of reach), so the pending count holds while the run lasts."
    )
    return "\n".join([intro, "", *rows, "", *verdicts])


def memory(results: dict[str, Any]) -> str:
    rows = [
        "| engine | one worker at rest, MB RSS | one worker under load (peak), MB RSS |",
        "|---|---:|---:|",
    ]
    for name, r in results.get("throughput", {}).items():
        rows.append(f"| {NAMES[name]} | {r['rss_rest_mb']:.0f} | {r['rss_peak_mb']:.0f} |")
    intro = (
        "Resident memory of the largest `reverse-otp serve` worker: at rest one second after"
        " start-up, and the peak sampled every 0.2 s through the throughput runs."
    )
    return "\n".join([intro, "", *rows])


SIZING = "## Sizing"


def write_sizing(results: dict[str, Any], path: Path) -> None:
    """Replace the body of the "Sizing" section of docs/deployment.md with these figures."""
    if not path.exists() or "throughput" not in results:
        return
    head, order, bodies = _split(path.read_text())
    if SIZING not in bodies:
        return
    bodies[SIZING] = sizing(results)
    text = head.rstrip() + "\n\n" + "\n".join(f"{h}\n\n{bodies[h].strip()}\n" for h in order)
    path.write_text(text)


def sizing(results: dict[str, Any]) -> str:
    m, o = results["machine"], results["options"]
    rows = [
        "| engine | webhooks/s | creations/s | verifications/hour (one creation + one webhook)"
        " | worker memory at rest / peak | PostgreSQL connections per instance |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results["throughput"].items():
        both = 1 / (1 / r["webhook_rps"] + 1 / r["create_rps"])
        connections = "-" if name == "sqlite" else f"up to {r.get('workers', 2) * 20}"
        rows.append(
            f"| {NAMES[name]} | {r['webhook_rps']:,.0f} | {r['create_rps']:,.0f} |"
            f" {both * 3600:,.0f} | {r['rss_rest_mb']:.0f} / {r['rss_peak_mb']:.0f} MB |"
            f" {connections} |"
        )
    note = (
        f"Measured {m['date']} by `python bench/run.py`"
        + (" (a smoke run)" if o["reps"] == 1 else "")
        + f" on one instance (gevent workers as `serve` starts them) on {m['cores']} cores"
        f" ({m['cpu']}, load average {m['load_before'][0]:.1f} before the run), the load"
        " generator on the same machine; docs/benchmarks.md has the conditions. Read them as"
        " orders of magnitude: a busy or slow-disk machine gives less, and PostgreSQL on its own"
        " machine gives the app servers more CPU."
    )
    advice = [
        "- Verifications are cheap: even the lowest figure above is far more than most"
        " deployments see in their busiest hour. Size for availability first (two instances),"
        " then add an instance per the figure above of peak verifications.",
        "- Memory: plan on the peak worker figure per worker, plus the status streams (see"
        ' "Streaming and workers").',
        '- Webhook cost does not grow with the number of pending challenges (see "Pending-'
        'challenge scale" in docs/benchmarks.md); retention keeps tables at 30 days of rows.',
        "- SQLite: one machine only; its writes serialise, so more workers add no write"
        " throughput. PostgreSQL: instances x workers x 2 x pool_size connections at most.",
    ]
    return "\n".join([note, "", *rows, "", *advice])
