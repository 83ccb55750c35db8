# Build stage: install everything, compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-deps.mjs ./scripts/
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled code, production dependencies, migrations, default config; non-root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json config.yaml openapi.yaml ./
COPY migrations ./migrations
COPY console ./console
RUN useradd --system --uid 10001 dispatch && mkdir -p /app/.data && chown dispatch /app/.data
USER dispatch
EXPOSE 8600 8601
HEALTHCHECK --interval=10s --timeout=2s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8601/health').then(r=>process.exit(r.status===200?0:1)).catch(()=>process.exit(1))"
# The node flags of `npm start` (package.json; test/service-flags.test.ts keeps them equal).
CMD ["node", "--max-old-space-size=512", "--initial-old-space-size=80", "--max-semi-space-size=8", "dist/main.js"]
