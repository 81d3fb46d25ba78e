# slotline: one image for every command (migrate, ingest, worker, api, backfill, demo), running the compiled build.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's postinstall applies these (patch-package)
COPY patches ./patches
# --ignore-scripts: the prepare script (npm run build) needs the sources, copied below
RUN npm ci --no-audit --no-fund --ignore-scripts && npx patch-package --patch-dir patches --error-on-fail
COPY tsconfig.json tsconfig.build.json ./
COPY cli ./cli
COPY core ./core
COPY indexer ./indexer
COPY api ./api
COPY schema ./schema
COPY devchain ./devchain
# the dashboard: built by vite into dist/web beside the compiled server
COPY web ./web
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npx --no-install patch-package --patch-dir patches --error-on-fail
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# the Yellowstone protos gRPC mode loads at run time (core/geyser.ts finds them from the project root)
COPY core/proto ./core/proto
USER node
# the young-generation size slotline ships with (cli/bin/slotline.mjs says why); `demo` reads its recorded blocks
# from a mounted folder: docker run -v /path/to/fixtures:/fixtures slotline demo --fixtures /fixtures
ENTRYPOINT ["node", "--max-semi-space-size=64", "dist/cli/main.js"]
CMD ["start"]
