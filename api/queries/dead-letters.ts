/** Reads behind `deadLetters`: the newest failed jobs, for the operator console. */
import { deadLetters } from "../../schema/index.js";
import { type Reader, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, columnsOf, fromOf } from "./common.js";

/** A dead letter as the API serves it: the payload stays in Postgres (it can be large and is the replay's business). */
export type DeadLetterRecord = Omit<RecordOf<typeof deadLetters>, "payload">;

const DEAD_LETTER_SELECT = selectAll(columnsOf(deadLetters, ["payload"]));

/** The newest `limit` dead letters not retried yet, newest first (dead_letters_created_idx). */
export function newestDeadLetters(reader: Reader, limit: number): Promise<DeadLetterRecord[]> {
  return reader.rows<DeadLetterRecord>(sql`
    select ${raw(DEAD_LETTER_SELECT)} from ${raw(fromOf(deadLetters))}
    where t.retried_at is null order by t.created_at desc, t.id desc limit ${limit}::int`);
}
