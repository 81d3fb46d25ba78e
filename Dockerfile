# slotline: one image for every command (migrate, ingest, worker, api, backfill).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY indexer ./indexer
COPY api ./api
COPY schema ./schema
COPY migrations ./migrations
COPY tsconfig.json ./
USER node
ENTRYPOINT ["node", "indexer/bin/slotline.mjs"]
CMD ["start"]
