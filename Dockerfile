# syntax=docker/dockerfile:1
# Secrets Dashboard: the Next.js standalone server on Node 20 (Debian bookworm, slim).
#
#   docker build -t secrets-dashboard .
#   docker run -p 3000:3000 -e MASTER_KEY -e NEXTAUTH_SECRET -e DATABASE_URL secrets-dashboard
#
# Every setting, secrets included, comes from the environment when the container starts (README,
# "Deploying: container, compose, Helm"); none is written into any layer.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
# Non-root account for the server and the tools image; numeric ids so Kubernetes can verify runAsNonRoot.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/app --create-home --shell /usr/sbin/nologin app
ENV NEXT_TELEMETRY_DISABLED=1
WORKDIR /app

# Every dependency, dev ones included (the build needs TypeScript, Tailwind and PostCSS).
# better-sqlite3 compiles from source when no prebuilt binary fits, so the compiler lives here only.
FROM base AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

FROM base AS build
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Standalone output (next.config.js): .next/standalone holds server.js and only the node_modules files
# the server uses, native addons included. A throwaway DATA_DIR keeps anything the build might write
# out of this layer.
ENV NEXT_OUTPUT=standalone
RUN DATA_DIR=/tmp/build-data npm run build \
 && rm -rf /tmp/build-data \
 && cp -r public .next/standalone/public \
 && cp -r .next/static .next/standalone/.next/static

# `docker build --target tools -t secrets-dashboard-tools .`: the full source and dependencies for the
# command-line tools (npm run users | import | report | audit:verify) against the same DATA_DIR or
# DATABASE_URL as the server. Not the server image.
FROM build AS tools
ENV NODE_ENV=production \
    DATA_DIR=/data
RUN mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
CMD ["npm", "run", "users", "--", "list"]

# The server image (the default target: the last stage).
FROM base AS runtime
ENV NODE_ENV=production \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    NODE_OPTIONS=--max-old-space-size=256
# The application files stay root's and read-only to the server; it writes only to DATA_DIR, /tmp and
# Next's cache folder.
COPY --from=build /app/.next/standalone ./
COPY deploy/docker/healthcheck.mjs /usr/local/lib/secrets-dashboard/healthcheck.mjs
# Start this very folder (as copied, links included, with no other node_modules in the image) and ask
# it for /api/health, a page and a static asset: a file the tracing missed fails the build, not the
# container. The script is mounted for this step only and leaves nothing behind.
RUN --mount=type=bind,source=deploy/docker,target=/tmp/deploy-docker \
    node /tmp/deploy-docker/smoke-test.mjs /app
RUN mkdir -p /data /app/.next/cache \
 && chown 10001:10001 /data /app/.next/cache \
 && chmod 0700 /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/usr/local/lib/secrets-dashboard/healthcheck.mjs"]
# server.js runs instrumentation.ts's register() like `npm start` does: stores open, migrations run,
# the first admin is made and the syncs start before the first request, or the container exits.
CMD ["node", "server.js"]
