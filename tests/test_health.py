"""/healthz says the process is up; /readyz that the database and the broker answer."""

import os

import pytest
from django.db import OperationalError

from appointments import health


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_database_and_broker_answer(client, monkeypatch):
    from spreekuur.celery import app

    # The real broker of this run: Redis in CI (REDIS_URL), else the configured one.
    monkeypatch.setattr(app.conf, "broker_url", os.environ.get("REDIS_URL", app.conf.broker_url))

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_says_which_part_is_down(client, monkeypatch):
    from spreekuur.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["broker"] == "down" and response.json()["database"] == "ok"


@pytest.mark.django_db
def test_readyz_says_when_the_database_is_down(client, monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_broker_ok", lambda: True)
    monkeypatch.setattr(health.connection, "cursor", refused)

    response = client.get("/readyz")

    assert response.status_code == 503 and response.json()["database"] == "down"
