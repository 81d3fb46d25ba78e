/**
 * The API's server: `startApi` listens (HTTP, SSE, graphql-ws) over its own read pool; `createApi` is the yoga
 * instance without a port (tests drive it with `api.fetch`).
 */
export { type RunningApi, type StartApiOptions, startApi } from "./main.js";
export { type Api, type ApiOptions, DEFAULT_SLOW_QUERY_CONCURRENCY, type Transport, createApi } from "./yoga.js";
export { type EventHub, createEventHub, parseChainEvent } from "./event-hub.js";
export { DASHBOARD_QUERY } from "./example.js";
