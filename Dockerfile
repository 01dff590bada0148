# hubsync container: assets from the npm lock file, then a slim Python runtime.
#   docker build -t hubsync .
#   docker run --rm -e HUBSYNC_SECRET_KEY=... -e HUBSYNC_DATABASE_URL=postgresql+asyncpg://... \
#       -e HUBSYNC_PUBLIC_URL=https://hubsync.example.com hubsync hubsync migrate
#   docker run -d -p 8000:8000 -e ... hubsync

FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN pip install "uv==0.13.8"
WORKDIR /src
COPY pyproject.toml uv.lock README.md alembic.ini ./
RUN uv export --locked --no-dev --no-emit-project --format requirements-txt > requirements.txt \
 && python -m venv /opt/hubsync \
 && /opt/hubsync/bin/pip install --require-hashes -r requirements.txt
COPY app ./app
COPY migrations ./migrations
COPY scripts ./scripts
COPY --from=assets /src/node_modules ./node_modules
RUN python scripts/vendor_assets.py \
 && /opt/hubsync/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm AS runtime
RUN useradd --system --uid 10001 --home-dir /srv/hubsync --create-home hubsync
COPY --from=build /opt/hubsync /opt/hubsync
ENV PATH=/opt/hubsync/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HUBSYNC_ENV=production \
    HUBSYNC_VAR_DIR=/srv/hubsync/var
WORKDIR /srv/hubsync
USER hubsync
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["hubsync", "serve", "--host", "0.0.0.0", "--port", "8000"]
