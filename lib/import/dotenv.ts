// A dotenv parser that reports every bad line by number instead of skipping it, so an import
// either writes the whole file or nothing. Problems name the line and the key, never the value.

export interface DotenvEntry {
  key: string;
  value: string;
  line: number;
}
export interface DotenvProblem {
  line: number;
  message: string;
}
export interface DotenvResult {
  entries: DotenvEntry[];
  problems: DotenvProblem[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Parameter Store's advanced tier holds at most 8 KB. */
export const MAX_VALUE_BYTES = 8192;

function unescapeDoubleQuoted(raw: string): string {
  return raw.replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' })[c] ?? c);
}

/** Index of the closing quote in `text` from `from`, skipping backslash escapes for double quotes. */
function closingQuote(text: string, quote: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

export function parseDotenv(source: string): DotenvResult {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];
  const seen = new Map<string, number>();

  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq === -1) {
      problems.push({ line: lineNo, message: 'expected KEY=VALUE but found no "="' });
      continue;
    }
    const key = body.slice(0, eq).trim();
    if (!KEY.test(key)) {
      problems.push({ line: lineNo, message: `"${key.slice(0, 64)}" is not a valid key (letters, digits, _ . -, not starting with a digit)` });
      continue;
    }
    let rest = body.slice(eq + 1).trimStart();
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // Quoted values may span lines (PEM keys); collect until the closing quote.
      let end = closingQuote(rest, quote, 1);
      const startLine = lineNo;
      while (end === -1 && index + 1 < lines.length) {
        index++;
        rest += '\n' + lines[index]!;
        end = closingQuote(rest, quote, 1);
      }
      if (end === -1) {
        problems.push({ line: startLine, message: `${key}: the ${quote === '"' ? 'double' : 'single'} quote is never closed` });
        continue;
      }
      const after = rest.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({ line: startLine, message: `${key}: unexpected text after the closing quote` });
        continue;
      }
      const inner = rest.slice(1, end);
      value = quote === '"' ? unescapeDoubleQuoted(inner) : inner;
    } else {
      value = rest.replace(/\s+#.*$/, '').trim();
    }
    if (value === '') {
      problems.push({ line: lineNo, message: `${key} has an empty value; Parameter Store cannot hold empty values` });
      continue;
    }
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
      problems.push({ line: lineNo, message: `${key}'s value is longer than ${MAX_VALUE_BYTES} bytes` });
      continue;
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({ line: lineNo, message: `${key} is already set on line ${earlier}` });
      continue;
    }
    seen.set(key, lineNo);
    entries.push({ key, value, line: lineNo });
  }
  return { entries, problems };
}
