import pg from "pg";
import { describe, expect, test } from "vitest";
import { parseTimestamptz } from "../../../api/sql/pool.js";

const slow = pg.types.getTypeParser(1184, "text") as (v: string) => Date | number;
const value = (x: Date | number | null) => (x instanceof Date ? x.getTime() : x);

describe("parseTimestamptz", () => {
  test("reads what Postgres writes as pg's own parser does", () => {
    const cases = [
      "2025-04-09 04:54:22+00",
      "2025-04-09 04:54:22.5+00",
      "2025-04-09 04:54:22.123456+00",
      "2025-04-09 04:54:22.1239+05:30",
      "2025-04-09 04:54:22-03",
      "2025-04-09 04:54:22+05:30:15",
      "2024-02-29 23:59:59.999+00",
      "1970-01-01 00:00:00+00",
      "0099-01-01 00:00:00+00",
      "2025-04-09 04:54:22+00 BC",
      "12345-01-01 00:00:00+00",
      "infinity",
      "-infinity",
    ];
    for (const c of cases) expect(value(parseTimestamptz(c)), c).toBe(value(slow(c)));
  });

  test("agrees with pg's parser on random instants", () => {
    for (let i = 0; i < 2_000; i++) {
      const d = new Date(Math.floor(Math.random() * 4e12));
      const iso = d.toISOString();
      const ms = d.getUTCMilliseconds();
      const s = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms).padStart(3, "0").replace(/0+$/, "")}` : ""}+00`;
      expect(value(parseTimestamptz(s)), s).toBe(value(slow(s)));
    }
  });
});
