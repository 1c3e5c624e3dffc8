"""`make bench`: the production stack on loopback, measured. Not a test.

Creates and drops its own database (spreekuur_bench) and flushes Redis db 7.
Starts gunicorn (WEB_WORKERS sync workers, default 4) with SPREEKUUR_ENV=production
on 127.0.0.1, and one Celery worker (prefork, concurrency 2). Prints one
`name: value unit` line per figure and writes docs/performance.md.
"""

import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var" / "bench"
DB_NAME = "spreekuur_bench"
REDIS_URL = "redis://127.0.0.1:6379/7"
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))


def _spawn(command: list[str], log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """A server process of the stack in its own session, its output in `log_path`."""
    # The child keeps its own copy of the file descriptor; ours closes at once.
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_web(
    port: int, *, workers: int, log_dir: Path, env: dict | None = None, log_name: str = "gunicorn"
) -> subprocess.Popen:
    """gunicorn with the settings in os.environ (and `env`), on 127.0.0.1 only."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return _spawn(
        [
            gunicorn,
            "spreekuur.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "--backlog",
            "2048",
        ],
        log_dir / f"{log_name}.log",
        env=env,
    )


def start_worker(hostname: str, *, log_dir: Path) -> subprocess.Popen:
    """A Celery worker as production runs it (prefork, 2 processes)."""
    celery = str(Path(sys.executable).with_name("celery"))
    return _spawn(
        [
            celery,
            "-A",
            "spreekuur",
            "worker",
            "-Q",
            "spreekuur",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            "--hostname",
            hostname,
        ],
        log_dir / "worker.log",
    )


def wait_for_web(base: str, web: subprocess.Popen, *, log_dir: Path, seconds: float = 30) -> None:
    """Until gunicorn at `base` answers (anything below 500)."""
    import requests

    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(base + "/", timeout=10).status_code < 500:
                return
        except requests.RequestException:
            pass
        if web.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not start; see {log_dir}/gunicorn*.log")
        time.sleep(0.2)


def wait_for_worker(worker: subprocess.Popen, *, log_dir: Path, seconds: float = 60) -> None:
    """Until the Celery worker started by start_worker says it is ready."""
    deadline = time.monotonic() + seconds
    while b" ready." not in (log_dir / "worker.log").read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"celery worker did not start; see {log_dir}/worker.log")
        time.sleep(0.2)


CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
AMS = ZoneInfo("Europe/Amsterdam")
RATE = "100000/m"

ENV = {
    "SPREEKUUR_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
    "ALLOWED_HOSTS": "127.0.0.1",
    "CACHE_URL": REDIS_URL,
    "SECURE_SSL_REDIRECT": "0",
    "BEHIND_TLS_PROXY": "0",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "CELERY_BROKER_URL": REDIS_URL,
    "SMS_BACKEND": "appointments.notifications.sms.FileSmsBackend",
    "SMS_FILE_PATH": str(VAR / "sms.jsonl"),
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "STATIC_ROOT": str(VAR / "static"),
    "SPREEKUUR_VAR_DIR": str(VAR),
    "SPREEKUUR_RATE_HOLD": RATE,
    "SPREEKUUR_RATE_BOOK": RATE,
    "SPREEKUUR_RATE_MANAGE": RATE,
    "SPREEKUUR_RATE_WAITLIST": RATE,
    # Never quiet: the reminder figure must not depend on the time of day.
    "SPREEKUUR_SMS_QUIET_FROM": "24",
    "SPREEKUUR_SMS_QUIET_UNTIL": "0",
    "LOG_LEVEL": "WARNING",
}

FIGURES: list[tuple[str, object, str]] = []
NOTES: list[str] = []


def figure(name: str, value, unit: str = "") -> None:
    FIGURES.append((name, value, unit))
    print(f"{name}: {value} {unit}".rstrip(), flush=True)


def setup_env() -> None:
    from cryptography.fernet import Fernet

    VAR.mkdir(parents=True, exist_ok=True)
    ENV["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ.update(ENV)


def recreate_database() -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()


def drop_database() -> None:
    import psycopg2
    from django.db import connections

    connections.close_all()
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    conn.close()


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


WEB_PID = 0  # the gunicorn master, set by main()


def web_cpu_seconds() -> float:
    """CPU time of the gunicorn workers: per request it does not depend on what else
    the machine runs, unlike requests per second."""
    return cpu_seconds(children(WEB_PID))


def kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)


# --- HTTP client -------------------------------------------------------------------

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """A browser: its own connection and cookies. Production cookies are Secure and
    `__Host-`; over plain loopback HTTP they are kept by hand and sent back."""

    def __init__(self, base: str):
        import requests

        self.base = base
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}
        self.statuses: list[int] = []

    def _keep(self, response) -> None:
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        self.statuses.append(response.status_code)

    def _headers(self) -> dict:
        return (
            {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            if self.cookies
            else {}
        )

    def get(self, path: str):
        r = self.http.get(
            self.base + path, headers=self._headers(), allow_redirects=False, timeout=60
        )
        self._keep(r)
        return r

    def post(self, path: str, data: dict):
        headers = self._headers()
        r = self.http.post(
            self.base + path, data=data, headers=headers, allow_redirects=False, timeout=60
        )
        self._keep(r)
        return r


def token(response) -> str:
    match = TOKEN_RE.search(response.text)
    return match.group(1) if match else ""


# --- Data --------------------------------------------------------------------------


def local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), tzinfo=AMS)


def make_slots(*, service, location, clinicians, days, hours, start_day) -> list:
    from appointments.models import Slot

    slots = []
    day = start_day
    made = 0
    while made < days:
        if day.weekday() < 5:
            for clinician in clinicians:
                for hour, minute in hours:
                    start = local(day, hour, minute)
                    slots.append(
                        Slot(
                            clinician=clinician,
                            service=service,
                            location=location,
                            start=start,
                            end=start + timedelta(minutes=20),
                            date=day,
                            capacity=1,
                        )
                    )
            made += 1
        day += timedelta(days=1)
    return slots


def bulk_slots(slots) -> None:
    from appointments.models import Slot

    Slot.objects.bulk_create(slots, batch_size=5000)


def new_place(tag: str, *, clinicians: int, horizon: int = 120, reminder_hours=None):
    from appointments.models import Clinician, Location, Service

    service = Service.objects.create(
        name_nl=f"Bench {tag}",
        name_en=f"Bench {tag}",
        slot_minutes=20,
        booking_horizon_days=horizon,
        min_notice_minutes=60,
        **({"reminder_hours": reminder_hours} if reminder_hours is not None else {}),
    )
    location = Location.objects.create(
        name=f"Bench {tag}", address="Loopback 1", postal_code="1018 WT"
    )
    people = Clinician.objects.bulk_create(
        Clinician(display_name=f"{tag} {n}", profession=Clinician.Profession.NURSE)
        for n in range(clinicians)
    )
    return service, location, people


HOURS_20 = [(h, m) for h in range(9, 17) for m in (0, 20, 40)]  # 24 a day


# --- Phases ------------------------------------------------------------------------


def _page_latencies(base: str, url: str) -> tuple[float, float]:
    """p50 and p95 in ms of 200 sequential GETs of `url` (at most 30 s), after a warm-up."""
    http = Client(base)
    for _ in range(10):  # warm every worker
        http.get(url)
    times = []
    deadline = time.monotonic() + 30
    for _ in range(200):
        t0 = time.perf_counter()
        r = http.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.status_code
        if time.monotonic() > deadline:
            break
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def phase_slots_page(base: str, shared_base: str) -> None:
    """`base` reads the free times for every page (SPREEKUUR_FREE_TIMES_CACHE_SECONDS=0):
    the cost of a read. `shared_base` runs the default, as production does."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from appointments.models import Slot

    tomorrow = timezone.localdate() + timedelta(days=1)
    service, location, people = new_place("page", clinicians=2)
    # The page measured: 2 clinicians, 8 times a day on weekdays, 60 weekdays: 960 slots.
    bulk_slots(
        make_slots(
            service=service,
            location=location,
            clinicians=people,
            days=60,
            hours=[(h, 0) for h in range(9, 17)],
            start_day=tomorrow,
        )
    )
    url = f"/afspraak/{service.pk}/{location.pk}/"
    filler_made = 0
    results = {}
    for target, label in ((1_000, "1k"), (10_000, "10k"), (100_000, "100k")):
        # Filler: other services, locations and clinicians, 24 slots a weekday each.
        missing = target - Slot.objects.count()
        while missing > 0:
            per_clin = 24 * 60
            n_clin = max(1, min(20, -(-missing // per_clin)))
            fs, fl, fp = new_place(f"filler{filler_made}", clinicians=n_clin)
            filler_made += 1
            batch = make_slots(
                service=fs, location=fl, clinicians=fp, days=60, hours=HOURS_20, start_day=tomorrow
            )[:missing]
            bulk_slots(batch)
            missing -= len(batch)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        inproc = DjangoClient(HTTP_HOST="127.0.0.1")
        with override_settings(SPREEKUUR_FREE_TIMES_CACHE_SECONDS=0):
            inproc.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert inproc.get(url).status_code == 200
        queries = len(ctx.captured_queries)
        p50, p95 = _page_latencies(base, url)
        results[label] = (p50, p95)
        total = Slot.objects.count()
        figure(f"slots_page_p50_ms[{label}]", f"{p50:.1f}", f"ms ({total} slots)")
        figure(f"slots_page_p95_ms[{label}]", f"{p95:.1f}", "ms")
        figure(f"slots_page_queries[{label}]", queries, "queries")
    figure("slots_page_growth_1k_100k", f"{results['100k'][1] / results['1k'][1]:.2f}", "x (p95)")
    p50, p95 = _page_latencies(shared_base, url)
    figure(
        "slots_page_shared_p50_ms[100k]",
        f"{p50:.1f}",
        "ms (the production default: one reading shared for 2 s)",
    )
    figure("slots_page_shared_p95_ms[100k]", f"{p95:.1f}", "ms")


def _booking_flow(
    base: str, slot_id: int, week: str, service_id: int, location_id: int
) -> tuple[str, list[int]]:
    c = Client(base)
    r = c.get(f"/afspraak/{service_id}/{location_id}/?week={week}")
    if r.status_code != 200:
        return "times", c.statuses
    r = c.post("/afspraak/vasthouden/", {"csrfmiddlewaretoken": token(r), "slot": slot_id})
    if r.status_code == 409:
        return "taken", c.statuses
    if r.status_code != 302:
        return "hold", c.statuses
    intake = r.headers["Location"]
    r = c.get(intake)
    if r.status_code != 200:
        return "intake", c.statuses
    r = c.post(intake, {"csrfmiddlewaretoken": token(r)})
    if r.status_code == 302 and "/mijn-afspraak/" in r.headers.get("Location", ""):
        return "booked", c.statuses
    return f"confirm{r.status_code}", c.statuses


def phase_booking(base: str) -> float:
    from django.utils import timezone

    from appointments.models import Booking

    tomorrow = timezone.localdate() + timedelta(days=1)
    service, location, people = new_place("booking", clinicians=10)
    slots = make_slots(
        service=service,
        location=location,
        clinicians=people,
        days=10,
        hours=HOURS_20,
        start_day=tomorrow,
    )
    bulk_slots(slots)  # 2400 slots
    jobs = [(s.pk, (s.date - timedelta(days=s.date.weekday())).isoformat()) for s in slots]
    limit, seconds = 1500, 45.0
    outcomes: dict[str, int] = {}
    statuses: list[int] = []
    lock = threading.Lock()
    next_job = iter(jobs[:limit])
    deadline = time.monotonic() + seconds

    def runner():
        while time.monotonic() < deadline:
            with lock:
                job = next(next_job, None)
            if job is None:
                return
            outcome, st = _booking_flow(base, job[0], job[1], service.pk, location.pk)
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                statuses.extend(st)

    cpu0 = web_cpu_seconds()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=runner) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = web_cpu_seconds() - cpu0
    in_db = Booking.objects.filter(slot__service=service, status=Booking.Status.CONFIRMED).count()
    rate = outcomes.get("booked", 0) / elapsed
    figure(
        "booking_per_s",
        f"{rate:.1f}",
        f"bookings/s ({outcomes.get('booked', 0)} in {elapsed:.1f} s, "
        f"{CLIENTS} clients, {in_db} confirmed rows, outcomes {outcomes}, "
        f"5xx {sum(1 for s in statuses if s >= 500)})",
    )
    booked = outcomes.get("booked", 0)
    figure(
        "booking_web_cpu_ms", f"{cpu / max(booked, 1) * 1000:.1f}", "ms of gunicorn CPU a booking"
    )
    return rate


def phase_baseline(base: str) -> float:
    import requests

    limit, seconds = 6000, 20.0
    count = [0]
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def runner():
        s = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if count[0] + errors[0] >= limit:
                    return
            r = s.post(base + "/bench/insert/", timeout=60)
            with lock:
                if r.status_code == 200:
                    count[0] += 1
                else:
                    errors[0] += 1

    cpu0 = web_cpu_seconds()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=runner) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = web_cpu_seconds() - cpu0
    rate = count[0] / elapsed
    figure(
        "baseline_insert_per_s",
        f"{rate:.1f}",
        f"inserts/s ({count[0]} in {elapsed:.1f} s, {errors[0]} errors)",
    )
    figure(
        "baseline_web_cpu_ms",
        f"{cpu / max(count[0], 1) * 1000:.2f}",
        "ms of gunicorn CPU an insert",
    )
    return rate


def phase_rush(base: str) -> None:
    from django.utils import timezone

    from appointments.models import Booking

    day = timezone.localdate() + timedelta(days=2)
    service, location, people = new_place("rush", clinicians=1)
    slots = make_slots(
        service=service,
        location=location,
        clinicians=people,
        days=1,
        hours=[(10, 0)],
        start_day=day,
    )
    bulk_slots(slots)
    slot = slots[0]
    week = (slot.date - timedelta(days=slot.date.weekday())).isoformat()
    n = 200
    clients = [Client(base) for _ in range(n)]
    tokens = [None] * n

    def prepare(i):
        tokens[i] = token(clients[i].get(f"/afspraak/{service.pk}/{location.pk}/?week={week}"))

    with ThreadPoolExecutor(50) as pool:
        list(pool.map(prepare, range(n)))
    barrier = threading.Barrier(n + 1, timeout=120)
    outcomes = [None] * n

    def rush(i):
        c = clients[i]
        barrier.wait()
        r = c.post("/afspraak/vasthouden/", {"csrfmiddlewaretoken": tokens[i], "slot": slot.pk})
        if r.status_code == 302:
            intake = r.headers["Location"]
            r2 = c.get(intake)
            r3 = c.post(intake, {"csrfmiddlewaretoken": token(r2)})
            outcomes[i] = "booked" if r3.status_code == 302 else f"confirm{r3.status_code}"
        else:
            outcomes[i] = "taken" if r.status_code == 409 else f"hold{r.status_code}"

    threads = [threading.Thread(target=rush, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - t0
    rush_statuses = [s for c in clients for s in c.statuses[1:]]
    five = sum(1 for s in rush_statuses if s >= 500)
    booked_rows = Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED).count()
    taken = outcomes.count("taken")
    figure(
        "rush_single_slot",
        f"{outcomes.count('booked')} booked / {taken} taken(409) / {five} 5xx / {elapsed:.2f} s",
        f"({n} clients, {booked_rows} confirmed rows, "
        f"other {[o for o in outcomes if o not in ('booked', 'taken')][:5]})",
    )


def phase_generate() -> None:
    from django.utils import timezone

    from appointments import services
    from appointments.models import AvailabilityRule, Slot

    service, location, people = new_place("generate", clinicians=50)
    service.slot_minutes = 30
    service.save()
    today = timezone.localdate()
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(
            clinician=p,
            service=service,
            location=location,
            weekday=wd,
            start_time=dtime(9, 0),
            end_time=dtime(17, 0),
            capacity=1,
            valid_from=today,
        )
        for p in people
        for wd in range(5)
    )
    t0 = time.perf_counter()
    first = services.slots_generate(start=today, weeks=12)
    t1 = time.perf_counter()
    second = services.slots_generate(start=today, weeks=12)
    t2 = time.perf_counter()
    made = Slot.objects.filter(service=service).count()
    figure(
        "generate_slots_s", f"{t1 - t0:.2f}", f"s (50 clinicians x 12 weeks: {first}; {made} slots)"
    )
    figure("generate_slots_idempotent_s", f"{t2 - t1:.2f}", f"s ({second})")


def phase_reminders() -> tuple[float, int]:
    from django.utils import timezone

    from appointments import tasks
    from appointments.crypto import seal
    from appointments.models import Booking, Message, Slot

    count = 10_000
    service, location, people = new_place("remind", clinicians=1, reminder_hours=[])
    start = local(timezone.localdate() + timedelta(days=3), 11)
    slot = Slot.objects.create(
        clinician=people[0],
        service=service,
        location=location,
        start=start,
        end=start + timedelta(minutes=20),
        date=start.date(),
        capacity=count,
    )
    now = timezone.now()
    sealed = seal(secrets.token_urlsafe(32))
    bookings = Booking.objects.bulk_create(
        (
            Booking(
                slot=slot,
                seat=seat,
                status=Booking.Status.CONFIRMED,
                reference=f"B{seat:05d}",
                confirmed_at=now,
                phone=f"+316{20000000 + seat}",
                contact_channel="sms",
                manage_token_sealed=sealed,
            )
            for seat in range(count)
        ),
        batch_size=2000,
    )
    messages = Message.objects.bulk_create(
        (
            Message(
                booking=b,
                kind=Message.Kind.REMINDER,
                channel="sms",
                due_at=now - timedelta(minutes=1),
                appointment_start=slot.start,
            )
            for b in bookings
        ),
        batch_size=2000,
    )
    ids = [m.pk for m in messages]
    sms_file = Path(ENV["SMS_FILE_PATH"])
    sms_file.unlink(missing_ok=True)
    worker = start_worker("bench@%h", log_dir=VAR)
    worker_rss = 0
    try:
        wait_for_worker(worker, log_dir=VAR)
        t0 = time.perf_counter()
        for _ in range(2):  # one chain per pool process, as two beat ticks would
            tasks.outbox_dispatch.apply_async()
        deadline = time.monotonic() + 180
        last_kick = time.monotonic()
        while time.monotonic() < deadline:
            # A range, not 10,000 ids: this poll shares the two cores with the worker.
            left = (
                Message.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
                .exclude(status="sent")
                .count()
            )
            if left == 0:
                break
            if time.monotonic() - last_kick > 10:  # beat's "look now", compressed
                tasks.outbox_dispatch.apply_async()
                last_kick = time.monotonic()
            time.sleep(0.25)
        elapsed = time.perf_counter() - t0
        worker_rss = rss_kib(worker.pid) + sum(rss_kib(p) for p in children(worker.pid))
    finally:
        kill_group(worker)
    import json
    from collections import Counter

    refs = (
        Counter(json.loads(line)["reference"] for line in sms_file.read_text().splitlines())
        if sms_file.exists()
        else Counter()
    )
    sent = Message.objects.filter(pk__in=ids, status="sent").count()
    expected = {
        str(p) for p in Message.objects.filter(pk__in=ids).values_list("public_id", flat=True)
    }
    twice = sum(1 for v in refs.values() if v > 1)
    rate = sent / elapsed
    figure(
        "reminders_per_s",
        f"{rate:.1f}",
        f"SMS/s ({sent}/{count} sent in {elapsed:.1f} s; provider got {sum(refs.values())} lines, "
        f"{len(set(refs) & expected)} distinct references, {twice} sent twice)",
    )
    return rate, worker_rss


# --- Main --------------------------------------------------------------------------


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    import redis

    rv = redis.Redis.from_url(REDIS_URL).info().get("redis_version", "?")
    return {
        "nproc": os.cpu_count(),
        "ram": f"{int(mem) / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "postgres": pg,
        "redis": rv,
        "python": platform.python_version(),
    }


PHASES = ("page", "booking", "rush", "generate", "reminders")


def main() -> int:
    """`python -m bench [PHASE ...]`: all phases, or only those named (then
    docs/performance.md is left as it is: it holds whole runs only)."""
    phases = sys.argv[1:] or list(PHASES)
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        print(f"bench: unknown phase(s) {unknown}; choose from {list(PHASES)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    setup_env()
    recreate_database()
    flush_redis()
    import django

    django.setup()
    from django.core.management import call_command

    print(f"bench: database {DB_NAME}, Redis db 7, gunicorn {WEB_WORKERS} sync workers", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_web(port, workers=WEB_WORKERS, log_dir=VAR)
    global WEB_PID
    WEB_PID = web.pid
    info = machine()
    worker_rss = 0
    try:
        wait_for_web(base, web, log_dir=VAR)
        if "page" in phases:
            fresh_port = free_port()
            fresh = start_web(
                fresh_port,
                workers=WEB_WORKERS,
                log_dir=VAR,
                env={"SPREEKUUR_FREE_TIMES_CACHE_SECONDS": "0"},
                log_name="gunicorn-fresh",
            )
            try:
                wait_for_web(f"http://127.0.0.1:{fresh_port}", fresh, log_dir=VAR)
                phase_slots_page(f"http://127.0.0.1:{fresh_port}", base)
            finally:
                kill_group(fresh)
        if "booking" in phases:
            booking = phase_booking(base)
            baseline = phase_baseline(base)
            figure("booking_ratio", f"{booking / baseline:.3f}" if baseline else "n/a")
        if "rush" in phases:
            phase_rush(base)
        workers = children(web.pid)
        per = [rss_kib(p) / 1024 for p in workers]
        figure(
            "web_rss_mib",
            f"{sum(per):.0f}",
            f"MiB (sum of {len(per)} gunicorn workers; per worker max {max(per):.0f}, "
            f"master {rss_kib(web.pid) / 1024:.0f})",
        )
        if "generate" in phases:
            phase_generate()
        if "reminders" in phases:
            _rate, worker_rss = phase_reminders()
            figure(
                "worker_rss_mib",
                f"{worker_rss / 1024:.0f}",
                "MiB (celery main + 2 pool processes)",
            )
    finally:
        kill_group(web)
        drop_database()
        flush_redis()
    total = time.monotonic() - started
    print(f"bench: done in {total:.0f} s", flush=True)
    from bench.report import write

    if set(phases) == set(PHASES):
        write(FIGURES, info, WEB_WORKERS, CLIENTS, total)
    else:
        print("bench: only some phases ran; docs/performance.md not rewritten", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
