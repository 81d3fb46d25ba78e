/**
 * `slotline <command>`: the commander program. Each command lives in commands/<name>.ts and is the composition root
 * of its process: it parses the config once, probes the services it needs, builds the context (cli/run.ts) and wires
 * the stages explicitly (cli/runtime.ts, cli/daemon.ts).
 */
import { Command, CommanderError } from "commander";
import { registerApi } from "./commands/api.js";
import { registerBackfill } from "./commands/backfill.js";
import { registerDeadLetters } from "./commands/dead-letters.js";
import { registerDemo } from "./commands/demo.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerDaemons } from "./commands/start.js";
import { registerSnapshot } from "./commands/snapshot.js";
import { registerStatus } from "./commands/status.js";
import { EXIT, fail } from "./run.js";

const program = new Command()
  .name("slotline")
  .description(
    "Self-hosted Solana indexer with a GraphQL read API. Configuration comes from the environment (see .env.example).",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

registerMigrate(program);
registerStatus(program);
registerDaemons(program);
registerApi(program);
registerBackfill(program);
registerSnapshot(program);
registerDeadLetters(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; usage errors exit 2 (commander already printed the message).
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  fail(err);
}
