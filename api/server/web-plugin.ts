/**
 * The dashboard and the operator console (web/, built into dist/web by `npm run build`): GET / and /console answer
 * the app's page, /assets/* its hashed files. Everything else falls through to yoga (/graphql, /health, ...).
 * @dev the app is a static client of the public GraphQL API: it is served before the API key check, then asks the
 * viewer for a key and sends it with every request, so the pages load the same with API_KEYS set or not. Served
 * files are the ones found at start-up (no path from a request ever reaches the file system).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "graphql-yoga";

/** Where the build puts the app, seen from this file in the sources (api/server) and in the build (dist/api/server). */
const CANDIDATES = ["../../dist/web/", "../../web/"] as const;

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json",
};

/** The app's pages reach the API and nothing else; inline style attributes are the chart library's own. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

type Asset = { body: ArrayBuffer; type: string; immutable: boolean };

/** The built app's directory (holding index.html and assets/), or null when the app was not built. */
export function findWebRoot(from: string = import.meta.url): string | null {
  for (const c of CANDIDATES) {
    const dir = fileURLToPath(new URL(c, from));
    // the second candidate is dist/web only from inside dist/: the sources' web/ holds an unbuilt index.html
    if (existsSync(`${dir}index.html`) && existsSync(`${dir}assets`)) return dir;
  }
  return null;
}

function loadAssets(root: string): Map<string, Asset> {
  const files = new Map<string, Asset>();
  const add = (path: string, file: string, immutable: boolean) => {
    const ext = file.slice(file.lastIndexOf(".") + 1);
    const type = TYPES[ext];
    if (!type) return;
    const b = readFileSync(file);
    files.set(path, {
      body: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
      type,
      immutable,
    });
  };
  const page = `${root}index.html`;
  for (const path of ["/", "/index.html", "/console"]) add(path, page, false);
  for (const name of readdirSync(`${root}assets`)) add(`/assets/${name}`, `${root}assets/${name}`, true);
  return files;
}

/** The plugin; a server whose app was not built serves no page (and logs nothing: GraphQL works without it). */
export function useWebApp(root: string | null = findWebRoot()): Plugin {
  const files = root ? loadAssets(root) : new Map<string, Asset>();
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== "GET" && request.method !== "HEAD") return;
      const asset = files.get(url.pathname);
      if (!asset) return;
      endResponse(
        new Response(request.method === "HEAD" ? null : asset.body, {
          headers: {
            "content-type": asset.type,
            "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            ...(asset.type.startsWith("text/html") ? { "content-security-policy": CSP } : {}),
          },
        }),
      );
    },
  };
}
