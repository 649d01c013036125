# Production image for both processes: `hookflow serve` and `hookflow worker`.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY workflows workflows
COPY activities activities
COPY fixtures fixtures
# Workflow code bundled at build time (src/worker/workflow-bundle.ts): a worker that bundles at start
# spends seconds and keeps a few hundred MiB of webpack memory.
RUN npx tsc -p tsconfig.json && node dist/src/worker/workflow-bundle.js && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
# Heap caps (src/processes/node-options.ts): the worker's value, safe for both; docker-compose.yml
# gives receivers their smaller one. Override NODE_OPTIONS to change them.
ENV NODE_OPTIONS="--max-old-space-size=160 --max-semi-space-size=4"
# Two malloc arenas instead of glibc's 8 per core: less memory stranded in half-empty arenas.
ENV MALLOC_ARENA_MAX=2
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/fixtures fixtures
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
