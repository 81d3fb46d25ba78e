import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../setup/fixtures.js";

// No Docker engine runs here, so the file is checked for what `docker compose up` needs.
type Service = {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(readFileSync(path.join(REPO_ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

describe("docker-compose.yml", () => {
  test("runs postgres:16 and redis:7 with health checks on named volumes", () => {
    const { postgres, redis } = compose.services;
    expect(postgres?.image).toBe("postgres:16");
    expect(redis?.image).toBe("redis:7");
    expect(postgres?.healthcheck?.test).toBeDefined();
    expect(redis?.healthcheck?.test).toBeDefined();
    for (const v of [...(postgres?.volumes ?? []), ...(redis?.volumes ?? [])])
      expect(Object.keys(compose.volumes)).toContain(v.split(":")[0]);
    expect(postgres?.ports).toContain("5432:5432");
    expect(redis?.ports).toContain("6379:6379");
  });

  test("runs ingest, worker and api from the repo's Dockerfile after migrations, once services are healthy", () => {
    expect(existsSync(path.join(REPO_ROOT, "Dockerfile"))).toBe(true);
    for (const name of ["ingest", "worker", "api"]) {
      const s = compose.services[name];
      expect(s?.build, name).toBe(".");
      expect(s?.command, name).toEqual([name]);
      expect(s?.depends_on?.migrate?.condition, name).toBe("service_completed_successfully");
    }
    expect(compose.services.migrate?.depends_on?.postgres?.condition).toBe("service_healthy");
    expect(compose.services.api?.ports).toContain("4000:4000");
  });

  test("the Dockerfile's entrypoint is the slotline CLI, with the Node flag its bin and `npm run demo` start with", () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "--max-semi-space-size=64", "dist\/cli\/main.js"\]/);
    const bin = readFileSync(path.join(REPO_ROOT, "cli/bin/slotline.mjs"), "utf8");
    expect(bin.split("\n")[0]).toBe("#!/usr/bin/env -S node --max-semi-space-size=64");
    expect(bin).toContain('"../../dist/cli/main.js"');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.demo).toBe("node --max-semi-space-size=64 cli/bin/slotline.mjs demo");
    // production runs the build: npm install builds, and the image copies dist/ from its build stage
    expect(pkg.scripts.prepare).toBe("npm run build");
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    // the patches npm ci applies are in the image before npm ci runs
    expect(dockerfile.indexOf("COPY patches")).toBeGreaterThan(-1);
    expect(dockerfile.indexOf("COPY patches")).toBeLessThan(dockerfile.indexOf("RUN npm ci"));
  });
});
