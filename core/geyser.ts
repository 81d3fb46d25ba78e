/**
 * The Yellowstone (Geyser) gRPC interface, shared by the indexer's gRPC source and the local chain's gRPC server:
 * the service definition loaded from the vendored protos (core/proto, see their headers) and the message shapes
 * slotline reads and writes.
 * @dev loaded with keepCase (fields as the proto spells them), u64 as decimal strings (a balance past 2^53 stays
 * exact), bytes as Buffers, and `oneofs` so an update names its kind (`update_oneof`) and an `optional` field says
 * whether it was sent (`_from_slot`).
 */
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { PROJECT_ROOT } from "./paths.js";

/** CommitmentLevel as the proto numbers it. */
export const GEYSER_COMMITMENT = { processed: 0, confirmed: 1, finalized: 2 } as const;
/** SlotStatus values slotline reads. */
export const SLOT_STATUS = { processed: 0, confirmed: 1, finalized: 2, dead: 6 } as const;

/** A u64 on the wire: a decimal string when read, a string or number when written. */
export type U64 = string | number;

/** solana.storage CompiledInstruction / InnerInstruction. */
export type GeyserInstruction = { program_id_index: number; accounts: Buffer; data: Buffer; stack_height?: number };
/** solana.storage TokenBalance. */
export type GeyserTokenBalance = {
  account_index: number;
  mint: string;
  owner: string;
  program_id: string;
  ui_token_amount: { ui_amount: number; decimals: number; amount: string; ui_amount_string: string };
};
/** SubscribeUpdateTransactionInfo, the fields slotline reads. */
export type GeyserTransactionInfo = {
  signature: Buffer;
  is_vote: boolean;
  index: U64;
  transaction: {
    signatures: Buffer[];
    message: {
      header: {
        num_required_signatures: number;
        num_readonly_signed_accounts: number;
        num_readonly_unsigned_accounts: number;
      };
      account_keys: Buffer[];
      recent_blockhash: Buffer;
      instructions: GeyserInstruction[];
      versioned: boolean;
      address_table_lookups: { account_key: Buffer; writable_indexes: Buffer; readonly_indexes: Buffer }[];
    };
  };
  meta: {
    err?: { err: Buffer } | null;
    fee: U64;
    pre_balances: U64[];
    post_balances: U64[];
    inner_instructions: { index: number; instructions: GeyserInstruction[] }[];
    inner_instructions_none: boolean;
    log_messages: string[];
    log_messages_none: boolean;
    pre_token_balances: GeyserTokenBalance[];
    post_token_balances: GeyserTokenBalance[];
    rewards: unknown[];
    loaded_writable_addresses: Buffer[];
    loaded_readonly_addresses: Buffer[];
    return_data?: { program_id: Buffer; data: Buffer } | null;
    return_data_none: boolean;
    compute_units_consumed?: U64;
    _compute_units_consumed?: string;
  };
};
/** SubscribeUpdateBlock, the fields slotline reads. */
export type GeyserBlock = {
  slot: U64;
  blockhash: string;
  block_time?: { timestamp: U64 } | null;
  block_height?: { block_height: U64 } | null;
  parent_slot: U64;
  parent_blockhash: string;
  executed_transaction_count: U64;
  transactions: GeyserTransactionInfo[];
};
/** SubscribeUpdate: one of its kinds is set, named by `update_oneof`. */
export type GeyserUpdate = {
  filters: string[];
  update_oneof?: "block" | "slot" | "ping" | "pong" | "block_meta" | "transaction" | "account" | "entry";
  block?: GeyserBlock;
  slot?: { slot: U64; parent?: U64; status: number };
  pong?: { id: number };
  ping?: Record<string, never>;
  created_at?: { seconds: U64; nanos: number };
};
/** SubscribeRequest, the fields slotline sends and the local chain reads. */
export type GeyserRequest = {
  slots?: Record<string, { filter_by_commitment?: boolean }>;
  blocks?: Record<
    string,
    {
      account_include?: string[];
      include_transactions?: boolean;
      include_accounts?: boolean;
      include_entries?: boolean;
    }
  >;
  commitment?: number;
  from_slot?: U64;
  _from_slot?: string;
  ping?: { id: number };
  _ping?: string;
};

/** The options both sides load the protos with (see the module's note). */
const LOAD_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
  includeDirs: [path.join(PROJECT_ROOT, "core/proto")],
};

let loaded: grpc.GrpcObject | undefined;

/** The Geyser service definition and client constructor (the protos are parsed once per process). */
export function geyserService(): { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync("geyser.proto", LOAD_OPTIONS));
  const Client = (loaded.geyser as grpc.GrpcObject).Geyser as grpc.ServiceClientConstructor;
  return { service: Client.service, Client };
}
