/**
 * IDLs in, Anchor 0.30+ IDLs out: @coral-xyz/anchor 0.32's coders accept only the new format, so a
 * legacy IDL (`version`, `name`, `isMut`, `publicKey`, `defined: "X"`, no discriminators) is converted.
 * Names are then put in camelCase (instructions, accounts, args, fields, enum variants) the way anchor's
 * own `Program` does, so both formats decode to the same names; type and event names keep their case.
 */
import { createHash } from "node:crypto";
import type { Idl } from "@coral-xyz/anchor";

type IdlType = Idl["instructions"][number]["args"][number]["type"];

/** What callers may pass: an Anchor 0.30+ IDL or a legacy one (both as parsed JSON). */
export type AnyIdl = Record<string, unknown>;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** sha256(preimage)[..8], Anchor's discriminator. */
export function anchorDiscriminator(preimage: string): number[] {
  return [...createHash("sha256").update(preimage).digest().subarray(0, 8)];
}

/** `swapBaseIn` / `SwapBaseIn` -> `swap_base_in` (as Rust's heck does for instruction names). */
export function snakeCase(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** `swap_base_in` -> `swapBaseIn`; already camelCase names are kept. */
export function camelCase(s: string): string {
  if (!s.includes("_")) return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
  const parts = s.split("_").filter(Boolean);
  return parts.map((p, i) => (i === 0 ? p[0]!.toLowerCase() + p.slice(1) : p[0]!.toUpperCase() + p.slice(1))).join("");
}

/** True for an IDL in Anchor's 0.30+ format. */
export function isNewFormat(idl: AnyIdl): boolean {
  const ixs = idl.instructions as Json[] | undefined;
  return (
    typeof idl.address === "string" && Array.isArray(ixs) && (ixs.length === 0 || Array.isArray(ixs[0]?.discriminator))
  );
}

/** The program id an IDL declares (new format `address`, legacy `metadata.address`). */
export function idlAddress(idl: AnyIdl): string | undefined {
  if (typeof idl.address === "string") return idl.address;
  const meta = idl.metadata as Json;
  return typeof meta?.address === "string" ? meta.address : undefined;
}

function convertType(t: Json): IdlType {
  if (typeof t === "string") return (t === "publicKey" ? "pubkey" : t) as IdlType;
  if (t && typeof t === "object") {
    if ("defined" in t) return { defined: typeof t.defined === "string" ? { name: t.defined } : t.defined };
    if ("option" in t) return { option: convertType(t.option) };
    if ("coption" in t) return { coption: convertType(t.coption) };
    if ("vec" in t) return { vec: convertType(t.vec) };
    if ("array" in t) return { array: [convertType(t.array[0]), t.array[1]] };
  }
  return t as IdlType;
}

function convertFields(fields: Json[] | undefined): Json[] | undefined {
  if (!fields) return undefined;
  return fields.map((f) =>
    f && typeof f === "object" && "name" in f && "type" in f
      ? { name: f.name, type: convertType(f.type) }
      : convertType(f),
  );
}

function convertTypeDef(t: Json): Json {
  const ty = t.type ?? {};
  if (ty.kind === "enum") {
    return {
      name: t.name,
      type: {
        kind: "enum",
        variants: (ty.variants ?? []).map((v: Json) => ({ name: v.name, fields: convertFields(v.fields) })),
      },
    };
  }
  if (ty.kind === "alias") return { name: t.name, type: { kind: "type", alias: convertType(ty.value) } };
  return { name: t.name, type: { kind: "struct", fields: convertFields(ty.fields) ?? [] } };
}

function convertAccounts(accs: Json[]): Json[] {
  return accs.map((a) =>
    Array.isArray(a.accounts)
      ? { name: a.name, accounts: convertAccounts(a.accounts) }
      : {
          name: a.name,
          writable: Boolean(a.isMut ?? a.writable),
          signer: Boolean(a.isSigner ?? a.signer),
          optional: Boolean(a.isOptional ?? a.optional),
        },
  );
}

/** Converts a legacy (pre-0.30) IDL to the 0.30+ format; `address` overrides the one the IDL declares. */
export function convertLegacyIdl(legacy: AnyIdl, address?: string): Idl {
  const l = legacy as Json;
  const types: Json[] = (l.types ?? []).map(convertTypeDef);
  const typeNames = new Set(types.map((t) => t.name));
  const events = (l.events ?? []).map((e: Json) => {
    if (!typeNames.has(e.name)) {
      types.push({ name: e.name, type: { kind: "struct", fields: convertFields(e.fields) ?? [] } });
      typeNames.add(e.name);
    }
    return { name: e.name, discriminator: anchorDiscriminator(`event:${e.name}`) };
  });
  const accounts = (l.accounts ?? []).map((a: Json) => {
    if (!typeNames.has(a.name)) {
      types.push(convertTypeDef(a));
      typeNames.add(a.name);
    }
    return { name: a.name, discriminator: anchorDiscriminator(`account:${a.name}`) };
  });
  return {
    address: address ?? idlAddress(legacy) ?? "",
    metadata: { name: String(l.name ?? "unknown"), version: String(l.version ?? "0.0.0"), spec: "0.1.0" },
    instructions: (l.instructions ?? []).map((ix: Json) => ({
      name: ix.name,
      discriminator: anchorDiscriminator(`global:${snakeCase(ix.name)}`),
      accounts: convertAccounts(ix.accounts ?? []),
      args: (ix.args ?? []).map((f: Json) => ({ name: f.name, type: convertType(f.type) })),
    })),
    accounts,
    events,
    types,
  } as Idl;
}

// camelCase the names a decoded value exposes; type names (and `defined` references to them) are kept
function camelizeFields(fields: Json[] | undefined): Json[] | undefined {
  return fields?.map((f) =>
    f && typeof f === "object" && "name" in f && "type" in f ? { ...f, name: camelCase(f.name) } : f,
  );
}

function camelizeAccounts(accs: Json[]): Json[] {
  return accs.map((a) =>
    Array.isArray(a.accounts)
      ? { ...a, name: camelCase(a.name), accounts: camelizeAccounts(a.accounts) }
      : { ...a, name: camelCase(a.name) },
  );
}

/** Any supported IDL -> an Anchor 0.30+ IDL with camelCase instruction, account, arg and field names. */
export function normalizeIdl(raw: AnyIdl, address?: string): Idl {
  const idl = (isNewFormat(raw) ? { ...raw, address: address ?? raw.address } : convertLegacyIdl(raw, address)) as Json;
  return {
    ...idl,
    instructions: (idl.instructions ?? []).map((ix: Json) => ({
      ...ix,
      name: camelCase(ix.name),
      accounts: camelizeAccounts(ix.accounts ?? []),
      args: camelizeFields(ix.args) ?? [],
    })),
    types: (idl.types ?? []).map((t: Json) => {
      const ty = t.type ?? {};
      if (ty.kind === "struct") return { ...t, type: { ...ty, fields: camelizeFields(ty.fields) } };
      if (ty.kind === "enum") {
        return {
          ...t,
          type: {
            ...ty,
            variants: ty.variants.map((v: Json) => ({
              ...v,
              name: camelCase(v.name),
              fields: camelizeFields(v.fields),
            })),
          },
        };
      }
      return t;
    }),
  } as Idl;
}
