# syntax=docker/dockerfile:1
# Production image for Spreekuur: one image for web (gunicorn), worker and beat.
# Build: docker compose build   (see docker-compose.yml and README.md)

# --- 1. Design-system CSS, served by the app itself (no CDN) ------------------
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- 2. Wheels, built where a compiler and libpq headers exist ----------------
FROM python:3.13-slim AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r /tmp/requirements.txt

# --- 3. Runtime ---------------------------------------------------------------
FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SPREEKUUR_ENV=production \
    SPREEKUUR_VAR_DIR=/app/var
# libpq5 for psycopg2; gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home spreekuur
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip install --no-cache-dir --no-index --find-links /wheels -r /tmp/requirements.txt

WORKDIR /app
COPY --from=assets /app/node_modules ./node_modules
COPY . .
# The secret key below exists only for this step: production settings refuse to
# load without one, and neither command uses it.
RUN SECRET_KEY=build-time-only-not-secret python manage.py collectstatic --noinput \
    && if find . -path ./node_modules -prune -o -type d -name locale -print | grep -q .; then \
        SECRET_KEY=build-time-only-not-secret python manage.py compilemessages --ignore=node_modules; \
    fi \
    && mkdir -p var \
    && chown spreekuur:spreekuur var

# The code stays owned by root: the app can write to var/ only.
USER spreekuur
EXPOSE 8000
CMD ["gunicorn", "spreekuur.wsgi", "--bind", "0.0.0.0:8000", "--no-control-socket"]
