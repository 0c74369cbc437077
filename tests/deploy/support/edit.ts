// Edits of a deployment file for tests that show a check fails: each edit must find its text, so a
// test cannot pass because the file changed and its edit no longer applies.

export function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`the edit's text is not in the file: ${String(from)}`);
  return text.replace(from, to);
}

export function replaceLast(text: string, from: string, to: string): string {
  const index = text.lastIndexOf(from);
  if (index < 0) throw new Error(`the edit's text is not in the file: ${from}`);
  return text.slice(0, index) + to + text.slice(index + from.length);
}
