import { parseThemeChoice, THEME_COOKIE } from '@/lib/validations/theme';

// The 400 page the proxy answers with before any page runs. Plain HTML, so it needs no React
// render and cannot fail on the input it describes. It is sent with the same Content-Security-Policy
// as every page: its one <style> element carries the request's nonce, and it has no script and no
// style="" or on…="" attributes. It is drawn in the person's theme (the theme cookie, as app/layout.tsx
// does), or the system's when they chose none.

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The request's cookies, as the proxy has them (only the theme is read). */
interface Cookies {
  get(name: string): { value: string } | undefined;
}

export function badRequestPage(address: string, problem: string, nonce: string, cookies?: Cookies): string {
  const theme = parseThemeChoice(cookies?.get(THEME_COOKIE)?.value);
  const themeAttribute = theme === 'system' ? '' : ` data-theme="${theme}"`;
  return `<!doctype html>
<html lang="en"${themeAttribute}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bad request · Secrets Dashboard</title>
<style nonce="${escapeHtml(nonce)}">:root{color-scheme:light dark}:root[data-theme=light]{color-scheme:light}:root[data-theme=dark]{color-scheme:dark}
body{font-family:system-ui,sans-serif;background:light-dark(#f8fafc,#020617);color:light-dark(#0f172a,#f1f5f9);margin:0}main{max-width:40rem;margin:4rem auto;padding:0 1.5rem}
h1{font-size:1.5rem}code{background:light-dark(#e2e8f0,#334155);padding:.1rem .3rem;border-radius:.25rem;word-break:break-all}a{color:inherit}</style></head>
<body><main><p>400 · Bad request</p><h1>This address cannot be read</h1>
<p><code>${escapeHtml(address)}</code></p><p>${escapeHtml(problem)}</p>
<p>Names may hold letters, digits and <code>_ . - /</code>, at most 15 levels and 2048 characters.</p>
<p><a href="/browse">Back to browsing</a></p></main></body></html>`;
}
