import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The dashboard's build: relative URLs throughout (base "./"), so the app works under any path prefix a proxy mounts
 * it at; output in dist/web, which api/server/web-plugin.ts serves.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 300,
  },
});
