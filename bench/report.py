"""Writes docs/performance.md from the figures of one `make bench` run."""

from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
TARGETS = {
    "booking_per_s": "≥ 250",
    "baseline_insert_per_s": "(reference)",
    "booking_ratio": "≥ 0.15",
    "rush_single_slot": "1 booking, 0 5xx",
    "slots_page_p95_ms[100k]": "≤ 25 ms",
    "slots_page_queries[100k]": "same as at 1k",
    "slots_page_growth_1k_100k": "≤ 1.3×",
    "generate_slots_s": "≤ 3 s",
    "generate_slots_idempotent_s": "≤ 1 s",
    "reminders_per_s": "≥ 500",
    "web_rss_mib": "≤ 120 (per worker)",
}
LIMITS = Path(__file__).resolve().parent / "limits.md"


def write(figures, info, web_workers, clients, total) -> None:
    rows = "\n".join(
        f"| `{name}` | {value} {unit} | {TARGETS.get(name, '')} |" for name, value, unit in figures
    )
    limits = LIMITS.read_text() if LIMITS.exists() else ""
    # The load test writes a section of its own (bench/loadtest.py): keep it.
    previous = DOC.read_text() if DOC.exists() else ""
    load_test = previous[previous.index("## Load test") :] if "## Load test" in previous else ""
    DOC.write_text(
        f"""# Performance

Written by `make bench` ({Path(__file__).parent.name}/), last run
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {total:.0f} s in all. Figures of one run on one
machine; read them as orders of magnitude.

## Machine

- CPU: {info["cpu"]}, `nproc` {info["nproc"]}; RAM {info["ram"]}
- PostgreSQL {info["postgres"]}, Redis {info["redis"]}, Python {info["python"]}
- Everything on this one machine, on loopback: gunicorn ({web_workers} sync workers,
  `SPREEKUUR_ENV=production`), PostgreSQL, Redis (db 7), one Celery worker
  (prefork, concurrency 2), and the load generator itself ({clients} client threads,
  `requests`), which competes with the server for the same 2 cores.
- Rate limits raised to 100000/m for the run; SMS to the recording file backend.

## Figures

| Figure | Value | Target |
|---|---|---|
{rows}

{limits}
{load_test}"""
    )
    print(f"bench: wrote {DOC}")
