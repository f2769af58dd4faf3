# Production image of the hub: one image, roles chosen by HUB_ROLES (api, worker, or both).
# Untested here (no Docker engine runs on the development machines); see docs/deployment.md.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` package is skipped: the base image is the same Node 24
# release as package.json pins (keep the two in step).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf node_modules/node node_modules/.bin/node

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production \
    HUB_ROLES=api,worker \
    HUB_CONFIG=/app/config/production.json \
    HOST=0.0.0.0 \
    OPS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY config ./config
COPY schemas ./schemas
# Production trust anchors and the hub key are mounted, never baked in: TRUST_DIR, HUB_CERT, HUB_KEY.
# production.json listens on 127.0.0.1; inside the container's own network namespace HOST and
# OPS_HOST open the ports to the published mappings (keep the ops port off the load balancer).
RUN useradd --system --uid 10001 --home /app hub && chown -R hub /app
USER hub
# 8080: the public API (api role) or health and metrics (worker role); 9464: /metrics of an api process.
EXPOSE 8080 9464
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--disable-warning=ExperimentalWarning", "src/main.ts"]
