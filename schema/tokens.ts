import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, text, unique } from "drizzle-orm/pg-core";
import { amount, blockTime, enumCheck } from "./columns.js";

/** Token programs a mint can belong to. */
export const TOKEN_PROGRAMS = ["spl-token", "token-2022"] as const;
/** Kinds of token movement recorded in `token_transfers`. */
export const TRANSFER_KINDS = ["transfer", "mint", "burn"] as const;

/**
 * Every mint seen, with what its account says (decimals, supply, authorities), its Metaplex or Token-2022 metadata
 * and its holder count.
 */
export const tokens = pgTable(
  "tokens",
  {
    mint: text("mint").primaryKey(),
    program: text("program", { enum: TOKEN_PROGRAMS }).notNull(),
    decimals: integer("decimals"),
    /** @dev exact: the supply read at `supply_slot` plus the mints less the burns stored after that slot */
    supply: amount("supply"),
    supplySlot: bigint("supply_slot", { mode: "number" }),
    /** owners whose token accounts of this mint hold more than 0 together (token_holders rows with amount > 0) */
    holderCount: integer("holder_count").notNull().default(0),
    mintAuthority: text("mint_authority"),
    freezeAuthority: text("freeze_authority"),
    name: text("name"),
    symbol: text("symbol"),
    uri: text("uri"),
    firstSeenSlot: bigint("first_seen_slot", { mode: "number" }).notNull(),
    updatedSlot: bigint("updated_slot", { mode: "number" }).notNull(),
  },
  (t) => [
    index("tokens_symbol_idx").on(t.symbol),
    index("tokens_first_seen_idx").on(t.firstSeenSlot),
    enumCheck("tokens_program_check", t.program, TOKEN_PROGRAMS),
  ],
);

/** A `tokens` row to insert. */
export type NewToken = typeof tokens.$inferInsert;

/** Token movements (transfers, mints, burns), one per instruction; `fee` is the Token-2022 transfer fee. */
export const tokenTransfers = pgTable(
  "token_transfers",
  {
    signature: text("signature").notNull(),
    instructionPath: text("instruction_path").notNull(),
    kind: text("kind", { enum: TRANSFER_KINDS }).notNull(),
    mint: text("mint").notNull(),
    source: text("source"),
    destination: text("destination"),
    sourceOwner: text("source_owner"),
    destinationOwner: text("destination_owner"),
    amount: amount("amount").notNull(),
    fee: amount("fee").notNull().default(sql`0`),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    blockTime: blockTime(),
  },
  (t) => [
    unique("token_transfers_natural_key").on(t.signature, t.instructionPath, t.slot),
    enumCheck("token_transfers_kind_check", t.kind, TRANSFER_KINDS),
    index("token_transfers_slot_idx").on(t.slot, t.txIndex, t.instructionPath),
    index("token_transfers_mint_idx").on(t.mint, t.slot, t.txIndex),
    index("token_transfers_source_idx").on(t.source, t.slot),
    index("token_transfers_destination_idx").on(t.destination, t.slot),
    index("token_transfers_source_owner_idx").on(t.sourceOwner, t.slot),
    index("token_transfers_destination_owner_idx").on(t.destinationOwner, t.slot),
  ],
);

/** A `token_transfers` row to insert. */
export type NewTransfer = typeof tokenTransfers.$inferInsert;
