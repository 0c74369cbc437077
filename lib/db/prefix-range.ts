// "Starts with P" as an index range: P <= name < P + the highest code point. Both databases compare
// these columns byte by byte (SQLite's BINARY, PostgreSQL's COLLATE "C"), and U+10FFFF is the
// highest UTF-8 sequence, so the range holds every name that starts with P, whatever it continues
// with (an ASCII bound such as "\x7f" would miss names going on in other scripts).

export const TOP_CODE_POINT = '\u{10FFFF}';

/** The exclusive upper end of the names that start with `prefix`. */
export function prefixEnd(prefix: string): string {
  return `${prefix}${TOP_CODE_POINT}`;
}
