import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from './env';

// Reading CONFIG_FILE: one YAML document whose sections (stores, grants, ...) are validated by
// the modules that use them, each naming the file and line of every problem.

export interface ConfigDocument {
  source: string;
  doc: Document;
  counter: LineCounter;
  raw: unknown;
}

export function parseConfigYaml(text: string, source: string): ConfigDocument {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${source}${e.linePos?.[0] ? `:${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`);
    throw new ConfigError(`The configuration file is not valid YAML:\n  ${lines.join('\n  ')}`);
  }
  if (!isMap(doc.contents) && doc.contents !== null) {
    throw new ConfigError(`${source}: the configuration must be a mapping with sections such as "stores:" at the top level.`);
  }
  return { source, doc, counter, raw: doc.toJS() ?? {} };
}

export function readConfigFile(file: string): ConfigDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${code ?? 'error'})`;
    throw new ConfigError(`CONFIG_FILE points at ${file}, but ${reason}.`);
  }
  return parseConfigYaml(text, file);
}

/** Where an issue's path points in the YAML, as a 1-based line, or null. */
export function lineOf(config: Pick<ConfigDocument, 'doc' | 'counter'>, issuePath: PropertyKey[]): number | null {
  const keys = issuePath.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
  // Walk down as far as the document goes: a missing key points at its parent entry.
  for (let depth = keys.length; depth >= 0; depth--) {
    const node = keys.length === 0 && depth === 0 ? config.doc.contents : config.doc.getIn(keys.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return config.counter.linePos(range[0]).line;
  }
  return null;
}

/** "file:12" or "file". */
export function at(config: ConfigDocument, issuePath: PropertyKey[]): string {
  const line = lineOf(config, issuePath);
  return `${config.source}${line ? `:${line}` : ''}`;
}
