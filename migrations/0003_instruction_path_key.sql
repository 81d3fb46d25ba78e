-- The order key of an instruction path, as an int8 array that sorts in execution order: "3" -> {3}, "3.1" -> {3,1},
-- and a second leg of one instruction (a two-hop swap's "3#1", "3.1#1") -> {3,-1,1}: after the instruction's own
-- row and before its inner instructions. A plain cast of string_to_array(path, '.') fails on "#" ("invalid input
-- syntax for type bigint"), which dead-lettered every slot carrying an Orca two-hop swap. SQL, immutable and
-- strict, so Postgres inlines it into the statements that call it.
CREATE OR REPLACE FUNCTION instruction_path_key(path text) RETURNS int8[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN string_to_array(replace(path, '#', '.-1.'), '.')::int8[];
