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

type IxEntry = {
  name: string;
  discLen: number;
  accounts: string[];
  coder: BorshInstructionCoder | undefined;
  /** coders without the last 1..MAX_MISSING_ARGS args, for data written before those args existed */
  shorter: { coder: BorshInstructionCoder; missing: string[] }[];
  error?: string;
};

/** How many trailing args an instruction may lack (older clients of an upgraded program) and still decode. */
const MAX_MISSING_ARGS = 2;
type EventEntry = {
  name: string;
  discLen: number;
  coder: BorshEventCoder | undefined;
  /** coders for the event's field prefixes (longest first), built on first need: events grow by appending fields */
  prefixes?: { coder: BorshEventCoder; missing: string[] }[];
  build: () => { coder: BorshEventCoder; missing: string[] }[];
};

/** A decoded instruction: its name, named accounts (remaining accounts listed apart) and JSON-safe args. */
export type DecodedAnchorIx = {
  name: string;
  accounts: Record<string, string>;
  remainingAccounts: string[];
  args: Record<string, JsonValue>;
  /** trailing args the data does not carry (written by a client older than the IDL); reported as null */
  missingArgs?: string[];
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
    const shorter: IxEntry["shorter"] = [];
    for (let k = 1; coder && k <= Math.min(MAX_MISSING_ARGS, ix.args.length); k++) {
      const args = ix.args.slice(0, ix.args.length - k);
      shorter.push({
        coder: new BorshInstructionCoder({ ...idl, instructions: [{ ...ix, args }] }),
        missing: ix.args.slice(args.length).map((a) => a.name),
      });
    }
    const entry: IxEntry = {
      name: ix.name,
      discLen: ix.discriminator.length,
      accounts: flattenAccounts(ix.accounts),
      coder,
      shorter,
      error,
    };
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
    const build = () => {
      const ty = (idl.types ?? []).find((t) => t.name === ev.name);
      if (!ty || ty.type.kind !== "struct" || !Array.isArray(ty.type.fields)) return [];
      const fields = ty.type.fields as { name: string }[];
      const out: { coder: BorshEventCoder; missing: string[] }[] = [];
      for (let k = fields.length - 1; k >= 1; k--) {
        const sub = { ...ty, type: { kind: "struct" as const, fields: fields.slice(0, k) } } as typeof ty;
        try {
          const types = (idl.types ?? []).map((t) => (t.name === ev.name ? sub : t));
          out.push({
            coder: new BorshEventCoder({ ...idl, events: [ev], types }),
            missing: fields.slice(k).map((f) => f.name),
          });
        } catch {
          break;
        }
      }
      return out;
    };
    events.set(Buffer.from(ev.discriminator).toString("hex"), {
      name: ev.name,
      discLen: ev.discriminator.length,
      coder,
      build,
    });
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
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      let decoded: { name: string; data: object } | null = null;
      let missingArgs: string[] | undefined;
      try {
        decoded = e.coder.decode(buf);
      } catch (err) {
        // data shorter than the IDL's args: an older client of an upgraded program omitted trailing args
        for (const s of e.shorter) {
          try {
            decoded = s.coder.decode(buf);
          } catch {
            continue;
          }
          missingArgs = s.missing;
          break;
        }
        if (!decoded)
          return { ok: false, reason: "error", discriminator, name: e.name, message: (err as Error).message };
      }
      if (!decoded) return { ok: false, reason: "error", discriminator, name: e.name, message: "layout did not match" };
      const args = toJsonSafe(decoded.data) as Record<string, JsonValue>;
      for (const name of missingArgs ?? []) args[name] = null;
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
          args,
          ...(missingArgs ? { missingArgs } : {}),
        },
      };
    },
    decodeEvent(data) {
      for (const n of evLens) {
        if (data.length < n) continue;
        const e = events.get(hex(data, n));
        if (!e?.coder) continue;
        const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
        try {
          const decoded = e.coder.decode(b64);
          if (decoded) return { name: e.name, data: toJsonSafe(decoded.data) as Record<string, JsonValue> };
        } catch {
          // an event emitted before the program added its last fields: decode the longest prefix that fits
          e.prefixes ??= e.build();
          for (const p of e.prefixes) {
            try {
              const decoded = p.coder.decode(b64);
              if (!decoded) continue;
              const out = toJsonSafe(decoded.data) as Record<string, JsonValue>;
              for (const f of p.missing) out[f] = null;
              return { name: e.name, data: out };
            } catch {
              continue;
            }
          }
          return undefined;
        }
      }
      return undefined;
    },
  };
}
