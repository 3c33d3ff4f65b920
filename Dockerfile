# syntax=docker/dockerfile:1
# The image of one service, for Cloud Run: SERVICE is extractor, transformer, loader or insights (the targets
# of scripts/build.ts). Build it from the repository root:
#   docker build --build-arg SERVICE=loader -t loader .     (Cloud Build: cloudbuild.yaml, docs/deploy.md)
#
# Build stage: the whole pnpm workspace from its frozen lockfile, then `pnpm build --deploy` (scripts/build.ts):
# the esbuild bundle plus exactly the packages it loads at run time (DuckDB's native binding and parquet-wasm
# for the transformer, loader and insights; none for the extractor) and its assets (the dataset profiles/ for
# the transformer, public/ and ECharts' browser build for insights), copied from the installed tree. Runtime
# stage: node:20-slim with that folder only, as the `node` user. test/deploy/bundle.test.ts assembles the same
# folders and starts them with plain `node dist/index.js`.
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'build with --build-arg SERVICE=extractor|transformer|loader|insights' >&2; exit 1; }
WORKDIR /repo
RUN npm install --global pnpm@10.34.9
# The dependencies first, from the lockfile alone: this layer is reused while only sources change.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm build --deploy /deploy "$SERVICE"

FROM ${NODE_IMAGE}
ARG SERVICE
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    HOST=0.0.0.0 \
    PORT=8080 \
    ETL_DATA_DIR=/tmp/etl
WORKDIR /app
COPY --from=build /deploy/${SERVICE}/ /app/
USER node
EXPOSE 8080
# Cloud Run ignores HEALTHCHECK and probes /healthz itself (startup_probe in terraform/services.tf);
# this one serves `docker run` and compose. node:20-slim has no curl: Node's fetch does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/index.js"]
