// Draws the app's icons into public/: icon.svg, favicon.ico (16, 32, 48), apple-touch-icon.png (180),
// icon-192.png, icon-512.png and icon-maskable-512.png. One description of the mark (a key on a dark
// slate rounded square) is written out as SVG and rasterised here, with supersampled coverage and a
// small PNG encoder on node:zlib, so the files are reproducible without a browser or an image library.
//
//   node --import tsx scripts/make-icons.ts

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';

const SIZE = 512; // the design's coordinate space (the SVG viewBox)
const BACKGROUND = '#0f172a'; // slate-900
const KEY = '#fbbf24'; // amber-400
const CORNER = 112;
const KEY_ROTATION_DEG = 45; // ring to the upper left, blade to the lower right
/** Moves the turned key so its bounding box sits in the middle. */
const KEY_OFFSET = { x: 8, y: -19 };

/** The key, drawn horizontally around the centre and then turned by KEY_ROTATION_DEG. */
const RING = { cx: 172, cy: 256, r: 88, hole: 40 };
const BLADE: Rect[] = [
  { x: 240, y: 233, w: 180, h: 46 }, // shaft
  { x: 330, y: 279, w: 34, h: 56 }, // teeth
  { x: 386, y: 279, w: 34, h: 76 },
];

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function svg(): string {
  const { cx, cy, r, hole } = RING;
  const circle = (radius: number) => `M${cx - radius} ${cy}a${radius} ${radius} 0 1 0 ${2 * radius} 0a${radius} ${radius} 0 1 0 ${-2 * radius} 0Z`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}">`,
    `<rect width="${SIZE}" height="${SIZE}" rx="${CORNER}" fill="${BACKGROUND}"/>`,
    `<g fill="${KEY}" transform="translate(${KEY_OFFSET.x} ${KEY_OFFSET.y}) rotate(${KEY_ROTATION_DEG} ${SIZE / 2} ${SIZE / 2})">`,
    `<path fill-rule="evenodd" d="${circle(r)}${circle(hole)}"/>`,
    ...BLADE.map((b) => `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}"/>`),
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}

type Rgba = [number, number, number, number];
const rgb = (hex: string): Rgba => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), 255];

function insideRoundedSquare(x: number, y: number, corner: number): boolean {
  if (x < 0 || y < 0 || x > SIZE || y > SIZE) return false;
  const dx = Math.max(corner - x, 0, x - (SIZE - corner));
  const dy = Math.max(corner - y, 0, y - (SIZE - corner));
  return dx * dx + dy * dy <= corner * corner;
}

const COS = Math.cos((-KEY_ROTATION_DEG * Math.PI) / 180);
const SIN = Math.sin((-KEY_ROTATION_DEG * Math.PI) / 180);

function insideKey(x: number, y: number): boolean {
  // Move and turn the point back into the key's frame.
  const c = SIZE / 2;
  x -= KEY_OFFSET.x;
  y -= KEY_OFFSET.y;
  const u = c + (x - c) * COS - (y - c) * SIN;
  const v = c + (x - c) * SIN + (y - c) * COS;
  const d2 = (u - RING.cx) ** 2 + (v - RING.cy) ** 2;
  if (d2 <= RING.r ** 2 && d2 > RING.hole ** 2) return true;
  return BLADE.some((b) => u >= b.x && u <= b.x + b.w && v >= b.y && v <= b.y + b.h);
}

/** RGBA pixels of the icon at `size`, each pixel the average of samples × samples points. */
function rasterise(size: number, options: { corner: number }): Buffer {
  const samples = size <= 64 ? 8 : 4;
  const background = rgb(BACKGROUND);
  const key = rgb(KEY);
  const pixels = Buffer.alloc(size * size * 4);
  const scale = SIZE / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) * scale;
          const y = (py + (sy + 0.5) / samples) * scale;
          if (!insideRoundedSquare(x, y, options.corner)) continue;
          const color = insideKey(x, y) ? key : background;
          r += color[0];
          g += color[1];
          b += color[2];
          a += 1;
        }
      }
      const o = (py * size + px) * 4;
      // Colours averaged over the covered samples only (straight alpha), coverage as alpha.
      if (a > 0) {
        pixels[o] = Math.round(r / a);
        pixels[o + 1] = Math.round(g / a);
        pixels[o + 2] = Math.round(b / a);
      }
      pixels[o + 3] = Math.round((255 * a) / (samples * samples));
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(size: number, pixels: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  // Each scanline starts with filter type 0 (none).
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) pixels.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An ICO holding PNG images (read by every browser and by Windows since Vista). */
function ico(images: { size: number; data: Buffer }[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, data }) => {
    const entry = Buffer.alloc(16);
    entry[0] = size >= 256 ? 0 : size;
    entry[1] = size >= 256 ? 0 : size;
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(data.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += data.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((i) => i.data)]);
}

const out = path.join(process.cwd(), 'public');
const rounded = (size: number) => png(size, rasterise(size, { corner: CORNER }));
// iOS and maskable icons are cut to shape by the system: full-bleed squares, the key inside the
// central 80% circle that every mask keeps.
const square = (size: number) => png(size, rasterise(size, { corner: 0 }));

writeFileSync(path.join(out, 'icon.svg'), svg());
writeFileSync(path.join(out, 'favicon.ico'), ico([16, 32, 48].map((size) => ({ size, data: rounded(size) }))));
writeFileSync(path.join(out, 'apple-touch-icon.png'), square(180));
writeFileSync(path.join(out, 'icon-192.png'), rounded(192));
writeFileSync(path.join(out, 'icon-512.png'), rounded(512));
writeFileSync(path.join(out, 'icon-maskable-512.png'), square(512));
console.log(`Icons written to ${out}`);
