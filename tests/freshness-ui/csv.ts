// A strict RFC 4180 reader for tests: quoted cells, doubled quotes, CRLF line ends.
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else if (c === '\n' || c === '\r' || c === '"') throw new Error(`bad CSV at ${i}: bare ${JSON.stringify(c)}`);
    else cell += c;
  }
  if (quoted) throw new Error('bad CSV: unclosed quote');
  if (cell !== '' || row.length > 0) throw new Error('bad CSV: last line has no CRLF');
  return rows;
}
