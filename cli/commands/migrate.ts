/** `slotline migrate`: apply pending migrations (creating the database if missing); safe from several processes. */
import type { Command } from "commander";
import { createLogger } from "../../core/logger.js";
import { runMigrations } from "../../core/migrate.js";
import { readRoleOf } from "../../core/read-role.js";
import { checkServices, configOrExit, EXIT, fail } from "../run.js";

/** Registers `migrate` on the program. */
export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description(
      "apply pending database migrations (creates the database if missing) and keep DATABASE_READ_ROLE's grants; safe to run from several processes at once",
    )
    .action(async () => {
      const config = configOrExit();
      await checkServices(config, { postgres: "required" });
      const logger = createLogger(config);
      try {
        const r = await runMigrations(config.DATABASE_URL, { logger, readRole: readRoleOf(config) });
        process.stdout.write(
          `${r.applied === 0 ? "nothing to apply" : `applied ${r.applied} migration(s)`}; ${r.total} applied in all\n`,
        );
        process.exit(EXIT.ok);
      } catch (err) {
        logger.error({ err }, "migrate failed");
        fail(err);
      }
    });
}
