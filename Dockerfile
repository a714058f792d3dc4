# The Ledger API (and, with `command: ledger project`, the projector worker).
# Point it at PostgreSQL with DATABASE_URL; `ledger serve` migrates on start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LEDGER_LOG_FORMAT=json \
    LEDGER_MIGRATIONS_DIR=/opt/ledger/migrations

WORKDIR /src
COPY pyproject.toml README.md ./
COPY ledger ./ledger
COPY projections ./projections
COPY api ./api
COPY pdf ./pdf
# The wheel holds the Python packages; the SQL migrations live beside them in the image.
COPY migrations /opt/ledger/migrations
RUN pip install . && cd / && rm -rf /src

RUN useradd --create-home --uid 10001 ledger \
    && mkdir /app \
    && chown ledger:ledger /app
USER ledger
WORKDIR /app

EXPOSE 8000
CMD ["ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
