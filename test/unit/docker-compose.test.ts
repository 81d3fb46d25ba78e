import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../core/config.js";
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
  environment?: Record<string, string>;
};
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };
const text = readFileSync(path.join(REPO_ROOT, "docker-compose.yml"), "utf8");
const compose = parse(text, { merge: true }) as Compose;

/**
 * The file as compose sees it with `env` as the environment: `${X}`, `${X:-default}` and `${X:?message}` (which
 * throws when X is unset or empty, as compose refuses to start), `$$` for a literal `$`.
 */
function interpolated(env: Record<string, string>): Compose {
  const value = (s: string) =>
    s.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g, (all, name?: string, op?: string, arg?: string) => {
      if (all === "$$") return "$";
      const v = env[name!];
      if (op === ":?" && !v) throw new Error(`${name}: ${arg}`);
      return v || (op === ":-" ? arg! : "");
    });
  // A key without a value takes the host's variable when it is set, and is left out otherwise.
  const walk = (x: unknown): unknown =>
    typeof x === "string"
      ? value(x)
      : Array.isArray(x)
        ? x.map(walk)
        : x && typeof x === "object"
          ? Object.fromEntries(
              Object.entries(x)
                .map(([k, v]) => [k, v === null ? env[k] : walk(v)])
                .filter(([, v]) => v !== undefined),
            )
          : x;
  return walk(compose) as Compose;
}

const SECRETS = { POSTGRES_PASSWORD: "pg-5e1a7c", REDIS_PASSWORD: "redis-9b02f4", API_DB_PASSWORD: "api-77d3a1" };
const SLOTLINE_SERVICES = ["migrate", "ingest", "worker", "api"];

describe("docker-compose.yml", () => {
  test("runs postgres:16 and redis:7 with health checks on named volumes", () => {
    const { postgres, redis } = compose.services;
    expect(postgres?.image).toBe("postgres:16");
    expect(redis?.image).toBe("redis:7");
    expect(postgres?.healthcheck?.test).toBeDefined();
    expect(redis?.healthcheck?.test).toBeDefined();
    for (const v of [...(postgres?.volumes ?? []), ...(redis?.volumes ?? [])])
      expect(Object.keys(compose.volumes)).toContain(v.split(":")[0]);
    expect(postgres?.ports).toEqual(["127.0.0.1:5432:5432"]);
    expect(redis?.ports).toEqual(["127.0.0.1:6379:6379"]);
  });

  test("publishes every port on 127.0.0.1 only, the API's unless API_PUBLISH_ADDRESS says otherwise", () => {
    const published = Object.entries(interpolated(SECRETS).services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, p]),
    );
    expect(published.length).toBeGreaterThanOrEqual(4);
    for (const [name, p] of published) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const exposed = interpolated({ ...SECRETS, API_PUBLISH_ADDRESS: "0.0.0.0" }).services;
    expect(exposed.api?.ports).toEqual(["0.0.0.0:4000:4000"]);
    expect(exposed.postgres?.ports).toEqual(["127.0.0.1:5432:5432"]);
  });

  test("refuses to start without each password, and holds none of its own", () => {
    expect(() => interpolated(SECRETS)).not.toThrow();
    for (const key of Object.keys(SECRETS)) {
      const env: Record<string, string> = { ...SECRETS };
      delete env[key];
      expect(() => interpolated(env), key).toThrow(new RegExp(`^${key}: set ${key}$`));
      expect(() => interpolated({ ...env, [key]: "" }), key).toThrow(new RegExp(`^${key}`));
    }
    // no literal credential: every one comes from the environment
    expect(text).not.toMatch(/postgres:postgres@|POSTGRES_PASSWORD: postgres/);
    const { postgres, redis } = interpolated(SECRETS).services;
    expect(postgres?.environment?.POSTGRES_PASSWORD).toBe(SECRETS.POSTGRES_PASSWORD);
    const command = redis?.command ?? [];
    expect(command[command.indexOf("--requirepass") + 1]).toBe(SECRETS.REDIS_PASSWORD);
    expect(command.slice(command.indexOf("--maxmemory-policy"), command.indexOf("--maxmemory-policy") + 2)).toEqual([
      "--maxmemory-policy",
      "noeviction",
    ]);
    // the health check authenticates (without the password on its command line)
    expect(redis?.environment?.REDISCLI_AUTH).toBe(SECRETS.REDIS_PASSWORD);
  });

  test("each slotline service's environment is a valid config with the passwords in its URLs", () => {
    const services = interpolated(SECRETS).services;
    // what the host sets is passed on
    const hosted = interpolated({ ...SECRETS, PROGRAMS: "pumpfun", SOLANA_WS_URL: "wss://ws.example/k" }).services;
    for (const name of SLOTLINE_SERVICES) {
      const config = parseConfig(hosted[name]?.environment ?? {});
      expect([config.PROGRAMS, config.SOLANA_WS_URL], name).toEqual([["pumpfun"], "wss://ws.example/k"]);
    }
    for (const name of SLOTLINE_SERVICES) {
      const env = services[name]?.environment ?? {};
      const config = parseConfig(env);
      expect(new URL(config.REDIS_URL).password, name).toBe(SECRETS.REDIS_PASSWORD);
      expect(new URL(config.DATABASE_URL).hostname, name).toBe("postgres");
    }
    // the indexer writes as the owner; migrate also creates the API's role
    for (const name of ["migrate", "ingest", "worker"]) {
      const url = new URL(parseConfig(services[name]!.environment!).DATABASE_URL);
      expect([url.username, url.password], name).toEqual(["postgres", SECRETS.POSTGRES_PASSWORD]);
    }
    const migrate = parseConfig(services.migrate!.environment!);
    expect(migrate.DATABASE_READ_ROLE).toBeTruthy();
    expect(migrate.DATABASE_READ_PASSWORD).toBe(SECRETS.API_DB_PASSWORD);
  });

  test("the API connects as the read-only role migrate creates, never as the superuser", () => {
    const services = interpolated(SECRETS).services;
    const migrate = parseConfig(services.migrate!.environment!);
    const api = parseConfig(services.api!.environment!);
    // the API reads DATABASE_READ_URL when set, else DATABASE_URL: both are the role's
    for (const raw of [api.DATABASE_URL, api.DATABASE_READ_URL ?? api.DATABASE_URL]) {
      const url = new URL(raw);
      expect(url.username).toBe(migrate.DATABASE_READ_ROLE);
      expect(url.password).toBe(migrate.DATABASE_READ_PASSWORD);
    }
    expect(api.DATABASE_READ_ROLE).toBeUndefined();
    // the API waits for migrate, which creates the role
    expect(services.api?.depends_on?.migrate?.condition).toBe("service_completed_successfully");
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
    expect(compose.services.api?.ports).toEqual(["${API_PUBLISH_ADDRESS:-127.0.0.1}:4000:4000"]);
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
