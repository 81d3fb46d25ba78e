# slotline: one image for every command (migrate, ingest, worker, api, backfill).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# npm ci's postinstall applies these (patch-package)
COPY api/patches ./api/patches
RUN npm ci --omit=dev --no-audit --no-fund
COPY indexer ./indexer
COPY api ./api
COPY schema ./schema
COPY migrations ./migrations
COPY tsconfig.json ./
USER node
# the young-generation size slotline ships with (indexer/bin/slotline.mjs says why)
ENTRYPOINT ["node", "--max-semi-space-size=64", "indexer/bin/slotline.mjs"]
CMD ["start"]
