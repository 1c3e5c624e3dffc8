"""`make loadtest`: 200 simulated clients for 60 s on the production stack, then a check.

Not a test. Reuses bench/__main__.py's helpers (environment, database, Redis, the
CSRF/session HTTP client, slot making, process handling) by importing that module;
several of them are private to it in spirit (module-level, no public API).

Its own database (spreekuur_loadtest) and Redis db 8, both emptied before and after.
gunicorn (LOADTEST_WEB_WORKERS sync workers, default 4) with SPREEKUUR_ENV=production
and one Celery worker, on 127.0.0.1 only. All simulated clients come from 127.0.0.1,
so the SPREEKUUR_RATE_* limits are raised far above the load (RATE below) for the run:
this measures the stack, not the limiter.

Each client is a thread with its own session, mixing browsing (home, times pages of
random weeks), holds, bookings (hold + intake, sometimes with an e-mail address and
consent), reschedules and cancellations through its own manage links, with short
think times. Every success a client saw is checked against the database afterwards.
Prints one `name: value unit` line per figure, appends them to docs/performance.md
under "## Load test", and exits non-zero when a check fails.
"""

import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import bench.__main__ as bench

CLIENTS = int(os.environ.get("LOADTEST_CLIENTS", "200"))
SECONDS = float(os.environ.get("LOADTEST_SECONDS", "60"))
WEB_WORKERS = int(os.environ.get("LOADTEST_WEB_WORKERS", "4"))
DB_NAME = "spreekuur_loadtest"
REDIS_URL = "redis://127.0.0.1:6379/8"
VAR = bench.BASE_DIR / "var" / "loadtest"
DOC = bench.BASE_DIR / "docs" / "performance.md"
RUNS_KEPT = 3
RATE = "10000000/m"

# Point bench's helpers (they read these module globals) at this run's own resources.
bench.DB_NAME = DB_NAME
bench.REDIS_URL = REDIS_URL
bench.VAR = VAR
bench.ENV.update(
    {
        "DJANGO_SETTINGS_MODULE": "spreekuur.settings",
        "CACHE_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "SMS_FILE_PATH": str(VAR / "sms.jsonl"),
        "STATIC_ROOT": str(VAR / "static"),
        "SPREEKUUR_VAR_DIR": str(VAR),
        "SPREEKUUR_RATE_HOLD": RATE,
        "SPREEKUUR_RATE_BOOK": RATE,
        "SPREEKUUR_RATE_MANAGE": RATE,
        "SPREEKUUR_RATE_WAITLIST": RATE,
    }
)

SLOT_RE = re.compile(r'name="slot" value="(\d+)"')
REF_RE = re.compile(r'class="spreekuur-reference">([^<]+)<')
MANAGE_RE = re.compile(r"/mijn-afspraak/([^/]+)/$")


# --- Stack ---------------------------------------------------------------------------


def start_web(port: int) -> subprocess.Popen:
    return bench.start_web(port, workers=WEB_WORKERS, log_dir=VAR)


def start_worker() -> subprocess.Popen:
    return bench.start_worker("loadtest@%h", log_dir=VAR)


def wait_ready(base: str, web: subprocess.Popen, worker: subprocess.Popen) -> None:
    bench.wait_for_web(base, web, log_dir=VAR, seconds=60)
    bench.wait_for_worker(worker, log_dir=VAR, seconds=60)


# --- Data ----------------------------------------------------------------------------


def seed() -> list[tuple[int, int]]:
    """3 services at 3 locations, 10 clinicians, 2 weeks of weekday slots, capacity 1–3."""
    from django.utils import timezone

    rng = random.Random(7)
    tomorrow = timezone.localdate() + timedelta(days=1)
    places = []
    total = 0
    for tag, clinicians in (("Soa-test", 4), ("Vaccinatie", 3), ("Anticonceptie", 3)):
        service, location, people = bench.new_place(tag, clinicians=clinicians)
        slots = bench.make_slots(
            service=service,
            location=location,
            clinicians=people,
            days=10,
            hours=bench.HOURS_20,
            start_day=tomorrow,
        )
        for slot in slots:
            slot.capacity = rng.randint(1, 3)
        bench.bulk_slots(slots)
        total += len(slots)
        places.append((service.pk, location.pk))
    bench.figure("seed_slots", total, "slots (3 services, 3 locations, 10 clinicians, 10 weekdays)")
    return places


# --- Simulated clients -----------------------------------------------------------------


class TimedClient(bench.Client):
    """bench's browser, with every request timed and labelled with its kind."""

    def __init__(self, base: str, log: list):
        super().__init__(base)
        self.log = log

    def call(self, kind: str, path: str, data: dict | None = None):
        import requests

        t0 = time.perf_counter()
        try:
            r = self.get(path) if data is None else self.post(path, data)
        except requests.RequestException:
            self.log.append((kind, "error", (time.perf_counter() - t0) * 1000))
            return None
        self.log.append((kind, r.status_code, (time.perf_counter() - t0) * 1000))
        return r


class SimulatedClient:
    def __init__(self, n: int, base: str, places, mondays, deadline: float):
        self.n = n
        self.rng = random.Random(1000 + n)
        self.log: list = []
        self.http = TimedClient(base, self.log)
        self.places = places
        self.mondays = mondays
        self.deadline = deadline
        # What this client saw succeed.
        self.booked: dict[str, dict] = {}  # reference -> token, slot, moved_to, cancelled
        self.events: Counter = Counter()
        self.made = 0

    def think(self) -> None:
        time.sleep(self.rng.uniform(0.05, 0.5))

    def times_page(self):
        service, location = self.rng.choice(self.places)
        monday = self.rng.choice(self.mondays)
        return self.http.call("times", f"/afspraak/{service}/{location}/?week={monday}")

    def browse(self) -> None:
        if self.http.call("home", "/") is None:
            return
        self.think()
        self.times_page()

    def hold(self):
        """Times page, pick a free time, hold it: (intake path, slot id) or None."""
        r = self.times_page()
        if r is None or r.status_code != 200:
            return None
        ids = SLOT_RE.findall(r.text)
        if not ids:
            self.events["no_free_time"] += 1
            return None
        self.think()
        slot = int(self.rng.choice(ids))
        r2 = self.http.call(
            "hold", "/afspraak/vasthouden/", {"csrfmiddlewaretoken": bench.token(r), "slot": slot}
        )
        if r2 is None:
            return None
        if r2.status_code == 409:
            self.events["hold_taken"] += 1
            return None
        if r2.status_code != 302:
            return None
        self.events["held"] += 1
        return r2.headers["Location"], slot

    def hold_only(self) -> None:
        held = self.hold()
        if held:
            self.http.call("intake_get", held[0])  # and walks away

    def book(self) -> None:
        held = self.hold()
        if not held:
            return
        intake, slot = held
        r = self.http.call("intake_get", intake)
        if r is None or r.status_code != 200:
            return
        self.think()
        data = {"csrfmiddlewaretoken": bench.token(r)}
        if self.rng.random() < 0.5:
            data["nickname"] = f"Client {self.n}"
        if self.rng.random() < 0.4:
            self.made += 1
            data["email"] = f"lt{self.n}.{self.made}@example.org"
            data["consent"] = "on"
        r = self.http.call("intake_post", intake, data)
        if r is None or r.status_code != 302:
            return
        match = MANAGE_RE.search(r.headers.get("Location", ""))
        if not match:
            return
        token = match.group(1)
        page = self.http.call("manage", f"/mijn-afspraak/{token}/")
        ref = REF_RE.search(page.text) if page is not None and page.status_code == 200 else None
        if ref is None:
            self.events["booked_without_reference"] += 1
            return
        self.booked[ref.group(1).strip()] = {
            "token": token,
            "slot": slot,
            "moved_to": None,
            "cancelled": False,
            "email": "email" in data,
        }
        self.events["booked"] += 1

    def live(self) -> list[str]:
        return [ref for ref, b in self.booked.items() if not b["cancelled"]]

    def reschedule(self) -> None:
        ref = self.rng.choice(self.live())
        token = self.booked[ref]["token"]
        path = f"/mijn-afspraak/{token}/verzetten/"
        r = self.http.call("reschedule_get", f"{path}?week={self.rng.choice(self.mondays)}")
        if r is None or r.status_code != 200:
            return
        ids = SLOT_RE.findall(r.text)
        if not ids:
            return
        self.think()
        slot = int(self.rng.choice(ids))
        r2 = self.http.call(
            "reschedule_post", path, {"csrfmiddlewaretoken": bench.token(r), "slot": slot}
        )
        if r2 is None:
            return
        if r2.status_code == 409:
            self.events["reschedule_taken"] += 1
            return
        if r2.status_code != 302:
            return
        page = self.http.call("manage", f"/mijn-afspraak/{token}/")
        if page is not None and "is verzet van" in page.text:
            self.booked[ref]["moved_to"] = slot
            self.events["rescheduled"] += 1

    def cancel(self) -> None:
        ref = self.rng.choice(self.live())
        path = f"/mijn-afspraak/{self.booked[ref]['token']}/afzeggen/"
        r = self.http.call("cancel_get", path)
        if r is None or r.status_code != 200:
            return
        self.think()
        r2 = self.http.call("cancel_post", path, {"csrfmiddlewaretoken": bench.token(r)})
        if r2 is not None and r2.status_code == 302 and "/afgezegd/" in r2.headers["Location"]:
            self.booked[ref]["cancelled"] = True
            self.events["cancelled"] += 1

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, 1))  # do not all start in the same millisecond
        while time.monotonic() < self.deadline:
            roll = self.rng.random()
            if self.live() and roll < 0.12:
                self.reschedule()
            elif self.live() and roll < 0.22:
                self.cancel()
            elif roll < 0.55:
                self.browse()
            elif roll < 0.65:
                self.hold_only()
            else:
                self.book()
            self.think()


# --- Checks --------------------------------------------------------------------------


def over_capacity() -> list:
    from django.db import connection

    sql = """
        SELECT s.id, s.capacity, count(b.id)
        FROM appointments_slot s
        JOIN appointments_booking b ON b.slot_id = s.id
        WHERE b.status IN ('confirmed', 'attended', 'no_show')
           OR (b.status = 'held' AND b.held_until > now())
        GROUP BY s.id, s.capacity
        HAVING count(b.id) > s.capacity
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def mismatches(clients: list[SimulatedClient]) -> list[str]:
    """Every success a client saw, against the rows: a list of what does not match."""
    from appointments import selectors
    from appointments.models import Booking, Slot

    seen = {ref: b for c in clients for ref, b in c.booked.items()}
    rows = {
        b.reference: b
        for b in Booking.objects.select_related("slot").filter(reference__in=list(seen))
    }
    slot_ids = {b["slot"] for b in seen.values()} | {
        b["moved_to"] for b in seen.values() if b["moved_to"]
    }
    slots = {s.pk: s for s in Slot.objects.filter(pk__in=slot_ids)}
    wrong = []
    for ref, saw in seen.items():
        row = rows.get(ref)
        if row is None:
            wrong.append(f"{ref}: booked, no row")
            continue
        want = Booking.Status.CANCELLED if saw["cancelled"] else Booking.Status.CONFIRMED
        if row.status != want:
            wrong.append(f"{ref}: status {row.status}, client saw {want}")
        # The service seats a client on any clinician's slot at the time picked:
        # the time and place must be the one the client chose (moved to, if moved).
        chosen = slots[saw["moved_to"] or saw["slot"]]
        if (row.slot.start, row.slot.location_id, row.slot.service_id) != (
            chosen.start,
            chosen.location_id,
            chosen.service_id,
        ):
            what = "rescheduled to" if saw["moved_to"] else "booked on"
            wrong.append(f"{ref}: on slot {row.slot_id}, client {what} {chosen.pk}")
        if not saw["cancelled"]:
            opened = selectors.booking_by_manage_token(token=saw["token"])
            if opened is None or opened.pk != row.pk:
                wrong.append(f"{ref}: manage link does not open this booking")
    return wrong


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(round(q * len(values))) - 1))]


# --- Report --------------------------------------------------------------------------


def append_doc(info: dict, checks_ok: bool, total_s: float) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if "\n## Load test\n" not in text:
        text = text.rstrip("\n") + (
            "\n\n## Load test\n\n"
            "Written by `make loadtest` (bench/loadtest.py), one block for each of the last "
            f"{RUNS_KEPT} runs, newest last. "
            "200 simulated clients (threads, each its own `requests` session) for 60 s mix "
            "browsing, holds, bookings, reschedules and cancellations with 0.05–0.5 s think "
            "times against gunicorn (production settings), PostgreSQL, Redis (db 8) and a "
            "Celery worker on loopback, with the load generator on the same cores. All "
            "clients share 127.0.0.1, so the `SPREEKUUR_RATE_*` limits are raised to "
            f"{RATE} for the run. Afterwards: 0 5xx, no slot with more live claims "
            "than its capacity, and every success a client saw matches a row.\n"
        )
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "",
        f"### Run of {stamp} ({'all checks passed' if checks_ok else 'CHECKS FAILED'})",
        "",
        f"- Machine: {info['cpu']}, `nproc` {info['nproc']}, RAM {info['ram']}; "
        f"PostgreSQL {info['postgres']}, Redis {info['redis']}, Python {info['python']}",
        f"- gunicorn {WEB_WORKERS} sync workers, Celery worker prefork ×2, "
        f"{CLIENTS} clients for {SECONDS:.0f} s; {total_s:.0f} s in all",
        "",
        "| Figure | Value |",
        "|---|---|",
        *(f"| `{name}` | {f'{value} {unit}'.strip()} |" for name, value, unit in bench.FIGURES),
    ]
    # Keep the last RUNS_KEPT runs: the section is a record of now, not a log.
    head, _, runs = text.partition("\n### Run of ")
    blocks = ["### Run of " + block for block in runs.split("\n### Run of ")] if runs else []
    kept = [block.rstrip("\n") for block in blocks[-(RUNS_KEPT - 1) :]] if RUNS_KEPT > 1 else []
    text = "\n\n".join([head.rstrip("\n"), *kept])
    DOC.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")


# --- Main ----------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    bench.setup_env()
    bench.recreate_database()
    bench.flush_redis()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    print(
        f"loadtest: database {DB_NAME}, Redis db 8, gunicorn {WEB_WORKERS} sync workers, "
        f"{CLIENTS} clients for {SECONDS:.0f} s, rate limits {RATE}",
        flush=True,
    )
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    places = seed()
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    # The weeks with times, and now and then one past the last (an empty week).
    mondays = [(this_monday + timedelta(weeks=w)).isoformat() for w in (0, 1, 1, 2, 2, 3)]
    port = bench.free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_web(port)
    worker = start_worker()
    info = bench.machine()
    failures: list[str] = []
    try:
        wait_ready(base, web, worker)
        deadline = time.monotonic() + SECONDS
        clients = [SimulatedClient(n, base, places, mondays, deadline) for n in range(CLIENTS)]
        threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 90)
        elapsed = time.perf_counter() - t0
        stuck = sum(1 for t in threads if t.is_alive())
        log = [entry for c in clients for entry in c.log]
        statuses = Counter(str(status) for _kind, status, _ms in log)
        events = sum((c.events for c in clients), Counter())
        bench.figure("requests_total", len(log), f"requests in {elapsed:.1f} s")
        bench.figure("requests_per_s", f"{len(log) / elapsed:.1f}", "requests/s")
        by_kind: dict[str, list[float]] = {}
        for kind, _status, ms in log:
            by_kind.setdefault(kind, []).append(ms)
        for kind in sorted(by_kind):
            times = by_kind[kind]
            bench.figure(
                f"latency_{kind}",
                f"{statistics.median(times):.0f} / {percentile(times, 0.95):.0f}",
                f"ms p50 / p95 ({len(times)} requests)",
            )
        for status in sorted(statuses):
            bench.figure(f"status_{status}", statuses[status], "responses")
        for name in sorted(events):
            bench.figure(f"seen_{name}", events[name], "times")
        five = sum(n for s, n in statuses.items() if s.isdigit() and int(s) >= 500)
        errors = statuses.get("error", 0)
        bench.figure("check_5xx", five, "responses (must be 0)")
        bench.figure("check_transport_errors", errors, "requests (must be 0)")
        if five:
            failures.append(f"{five} 5xx answers")
        if errors:
            failures.append(f"{errors} requests without an answer")
        if stuck:
            failures.append(f"{stuck} client threads still running")
        over = over_capacity()
        bench.figure("check_slots_over_capacity", len(over), f"slots (must be 0) {over[:3]}")
        if over:
            failures.append(f"{len(over)} slots over capacity")
        wrong = mismatches(clients)
        checked = sum(len(c.booked) for c in clients)
        bench.figure(
            "check_success_mismatches", len(wrong), f"of {checked} bookings seen (must be 0)"
        )
        for line in wrong[:10]:
            print(f"  mismatch: {line}", flush=True)
        if wrong:
            failures.append(f"{len(wrong)} successes without a matching row")
    finally:
        bench.kill_group(web)
        bench.kill_group(worker)
        bench.drop_database()
        bench.flush_redis()
    total = time.monotonic() - started
    ok = not failures
    print(f"loadtest: {'all checks passed' if ok else 'FAILED: ' + '; '.join(failures)}")
    print(f"loadtest: done in {total:.0f} s", flush=True)
    append_doc(info, ok, total)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
