"""Health endpoints for load balancers and orchestrators; no data, no session, no auth.

`/healthz`: the process answers (liveness). `/readyz`: the database and the
broker answer too (readiness); 503 with which one failed, so a deploy waits and
a load balancer stops sending traffic to an instance that cannot serve it.
"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means: not ready
        return False


def _broker_ok() -> bool:
    from spreekuur.celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # noqa: BLE001 - any failure means: not ready
        return False


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            **{k: "ok" if v else "down" for k, v in checks.items()},
        },
        status=200 if ready else 503,
    )
