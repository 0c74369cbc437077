import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { config } from '@/proxy';

// The icons and manifest in public/ are served to anyone (browsers fetch them before and without a
// session), so the proxy must not run on them; every page and API path still goes through it.

const PUBLIC = path.join(process.cwd(), 'public');
const matches = (pathname: string) => config.matcher.some((m) => new RegExp(`^${m}$`).test(pathname));

describe('public files', () => {
  const manifest = JSON.parse(readFileSync(path.join(PUBLIC, 'site.webmanifest'), 'utf8')) as {
    name: string;
    theme_color: string;
    icons: { src: string; sizes: string; type: string }[];
  };
  const files = ['/favicon.ico', '/icon.svg', '/apple-touch-icon.png', '/site.webmanifest', ...manifest.icons.map((i) => i.src)];

  it('exist, and the manifest names the app and its icons', () => {
    expect(manifest.name).toBe('Secrets Dashboard');
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
    for (const file of new Set(files)) expect(existsSync(path.join(PUBLIC, file)), file).toBe(true);
  });

  it('PNG icons have the sizes they claim', () => {
    const size = (file: string) => {
      const png = readFileSync(path.join(PUBLIC, file));
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
      return `${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`;
    };
    for (const icon of manifest.icons.filter((i) => i.type === 'image/png')) expect(size(icon.src)).toBe(icon.sizes);
    expect(size('/apple-touch-icon.png')).toBe('180x180');
  });

  it('favicon.ico holds 16, 32 and 48 pixel images', () => {
    const ico = readFileSync(path.join(PUBLIC, 'favicon.ico'));
    expect(ico.readUInt16LE(2)).toBe(1);
    const count = ico.readUInt16LE(4);
    expect([...Array(count)].map((_, i) => ico[6 + 16 * i])).toEqual([16, 32, 48]);
  });

  it.each(['/favicon.ico', '/icon.svg', '/apple-touch-icon.png', '/icon-192.png', '/icon-512.png', '/icon-maskable-512.png', '/site.webmanifest'])(
    'the proxy leaves %s alone',
    (file) => expect(matches(file)).toBe(false),
  );

  it.each(['/', '/browse/local/prod/', '/items/local/prod/app/key', '/api/v1/stores/local/reveal/prod/app/key', '/signin', '/audit'])(
    'the proxy still sees %s',
    (pathname) => expect(matches(pathname)).toBe(true),
  );
});
