/**
 * JSON.parse that never rounds an integer: one past 2^53 (a lamport balance of an account holding more than 9M SOL,
 * a u64 anywhere) is read as its decimal text, exactly, instead of the nearest double. Fields that must be numbers
 * (slots, fees, indexes) then fail their checks as out of range, as they should: never a rounded value.
 */
import { holdsUnsafeInteger, quoteUnsafeIntegers } from "../../core/exact-json.js";

/**
 * Parses `text` as JSON.parse does, except that integer literals beyond Number.MAX_SAFE_INTEGER become strings.
 * @dev JSON.parse first, then a walk of what it made: a literal past 2^53 comes out as an integer-valued double of at
 * least 2^53, which the walk finds; only then is the text scanned for the literals to keep as text (a float as large
 * also sends it there, where it stays a float). The walk costs about a tenth of JSON.parse; the scan, more than
 * JSON.parse itself (a getBlock transaction almost always holds 16-digit runs: the System, Compute Budget and wSOL
 * ids are runs of ones).
 */
export function parseExact(text: string): unknown {
  const plain: unknown = JSON.parse(text);
  if (!holdsUnsafeInteger(plain)) return plain;
  const quoted = quoteUnsafeIntegers(text, (lit) => `"${lit}"`);
  return quoted === null ? plain : JSON.parse(quoted);
}
