/**
 * One Anchor program, from its IDL: instruction and event discriminators, flattened account names, and
 * @coral-xyz/anchor's Borsh coders, built once per program (never per transaction).
 * @dev one BorshInstructionCoder / BorshEventCoder per instruction / event, so a decode is one map lookup
 * and one layout; an instruction whose layout anchor cannot build is still recognised by name.
 */
import { BorshEventCoder, BorshInstructionCoder, type Idl } from "@coral-xyz/anchor";
import { toJsonSafe, type JsonValue } from "../json-safe.js";
import { type AnyIdl, idlAddress, normalizeIdl } from "./idl-normalize.js";

/** `sha256("anchor:event")[..8]` little-endian: the first 8 bytes of an `emit_cpi!` self-CPI. */
export const EVENT_IX_TAG_HEX = "e445a52e51cb9a1d";

type IxEntry = { name: string; discLen: number; accounts: string[]; coder: BorshInstructionCoder | undefined; error?: string };
type EventEntry = { name: string; discLen: number; coder: BorshEventCoder | undefined };

/** A decoded instruction: its name, named accounts (remaining accounts listed apart) and JSON-safe args. */
export type DecodedAnchorIx = {
  name: string;
  accounts: Record<string, string>;
  remainingAccounts: string[];
  args: Record<string, JsonValue>;
};

/** The result of matching instruction data against a program's IDL. */
export type AnchorIxMatch =
  | { ok: true; name: string; accountNames: string[]; decoded: DecodedAnchorIx }
  | { ok: false; reason: "unknown" | "error"; discriminator: string; name?: string; message?: string };

/** An Anchor program the decoder knows through its IDL. */
export type AnchorProgram = {
  programId: string;
  name: string;
  idl: Idl;
  instructionNames: string[];
  eventNames: string[];
  /** account names of an instruction, in order (nested account groups flattened as `group.name`) */
  accountNames(ixName: string): string[] | undefined;
  /** name of the instruction these bytes call, without decoding the args */
  instructionName(data: Uint8Array): string | undefined;
  decodeInstruction(data: Uint8Array, accountKeys: readonly string[]): AnchorIxMatch;
  /** decodes event bytes (discriminator + borsh), as in `Program data:` or after the emit_cpi tag */
  decodeEvent(data: Uint8Array): { name: string; data: Record<string, JsonValue> } | undefined;
};

function flattenAccounts(items: Idl["instructions"][number]["accounts"], prefix = ""): string[] {
  const out: string[] = [];
  for (const item of items) {
    if ("accounts" in item) out.push(...flattenAccounts(item.accounts, `${prefix}${item.name}.`));
    else out.push(`${prefix}${item.name}`);
  }
  return out;
}

const hex = (b: Uint8Array, n: number) => Buffer.from(b.subarray(0, n)).toString("hex");

/** Builds the program from any supported IDL; `programId` overrides the address the IDL declares. */
export function createAnchorProgram(raw: AnyIdl, programId?: string): AnchorProgram {
  const id = programId ?? idlAddress(raw);
  if (!id) throw new Error("IDL declares no program address; pass the program id");
  const idl = normalizeIdl(raw, id);
  const byDisc = new Map<string, IxEntry>();
  const byName = new Map<string, IxEntry>();
  const discLens = new Set<number>();
  for (const ix of idl.instructions) {
    let coder: BorshInstructionCoder | undefined;
    let error: string | undefined;
    try {
      coder = new BorshInstructionCoder({ ...idl, instructions: [ix] });
    } catch (err) {
      error = (err as Error).message;
    }
    const entry: IxEntry = { name: ix.name, discLen: ix.discriminator.length, accounts: flattenAccounts(ix.accounts), coder, error };
    byDisc.set(Buffer.from(ix.discriminator).toString("hex"), entry);
    byName.set(ix.name, entry);
    discLens.add(ix.discriminator.length);
  }
  const events = new Map<string, EventEntry>();
  const eventLens = new Set<number>();
  for (const ev of idl.events ?? []) {
    let coder: BorshEventCoder | undefined;
    try {
      coder = new BorshEventCoder({ ...idl, events: [ev] });
    } catch {
      coder = undefined;
    }
    events.set(Buffer.from(ev.discriminator).toString("hex"), { name: ev.name, discLen: ev.discriminator.length, coder });
    eventLens.add(ev.discriminator.length);
  }
  const lens = [...discLens].sort((a, b) => b - a);
  const evLens = [...eventLens].sort((a, b) => b - a);

  const find = (data: Uint8Array): IxEntry | undefined => {
    for (const n of lens) {
      if (data.length < n) continue;
      const e = byDisc.get(hex(data, n));
      if (e) return e;
    }
    return undefined;
  };

  return {
    programId: id,
    name: idl.metadata.name,
    idl,
    instructionNames: idl.instructions.map((i) => i.name),
    eventNames: (idl.events ?? []).map((e) => e.name),
    accountNames: (name) => byName.get(name)?.accounts,
    instructionName: (data) => find(data)?.name,
    decodeInstruction(data, accountKeys) {
      const e = find(data);
      if (!e) return { ok: false, reason: "unknown", discriminator: hex(data, 8) };
      const discriminator = hex(data, e.discLen);
      if (!e.coder) return { ok: false, reason: "error", discriminator, name: e.name, message: e.error ?? "no layout" };
      let decoded: { name: string; data: object } | null;
      try {
        decoded = e.coder.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        return { ok: false, reason: "error", discriminator, name: e.name, message: (err as Error).message };
      }
      if (!decoded) return { ok: false, reason: "error", discriminator, name: e.name, message: "layout did not match" };
      const accounts: Record<string, string> = {};
      const n = Math.min(e.accounts.length, accountKeys.length);
      for (let i = 0; i < n; i++) accounts[e.accounts[i]!] = accountKeys[i]!;
      return {
        ok: true,
        name: e.name,
        accountNames: e.accounts,
        decoded: {
          name: e.name,
          accounts,
          remainingAccounts: accountKeys.slice(e.accounts.length),
          args: toJsonSafe(decoded.data) as Record<string, JsonValue>,
        },
      };
    },
    decodeEvent(data) {
      for (const n of evLens) {
        if (data.length < n) continue;
        const e = events.get(hex(data, n));
        if (!e?.coder) continue;
        try {
          const decoded = e.coder.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"));
          if (decoded) return { name: e.name, data: toJsonSafe(decoded.data) as Record<string, JsonValue> };
        } catch {
          return undefined;
        }
      }
      return undefined;
    },
  };
}
