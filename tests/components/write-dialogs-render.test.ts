import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

vi.mock('next/navigation', () => ({ useRouter: () => ({ refresh: () => undefined }) }));

import { RevealValue } from '@/components/reveal-value';
import { WriteValueDialog } from '@/components/write-value-dialog';

// Server-rendered markup of the write dialog and the reveal panel (no DOM here): what is offered to
// whom, the dialogs' labels and limits. The interaction itself is exercised in the browser tests.

const action = async () => ({ ok: true as const, data: { version: '2', createdAt: '2026-12-01T10:00:00.000Z' } });
const props = {
  storeId: 'local',
  name: '/prod/payments/stripe-key',
  canRotate: true,
  canGenerate: true,
  rotateDescription: 'Writes a new random 32-character password as version 4.',
  generateDescription: 'Writes the new value as version 4.',
  mayBeJson: false,
  rotateAction: action,
  generateAction: action,
};
/** The opening tag of the element named `name`, attributes in any order. */
const tagNamed = (html: string, name: string) => html.match(new RegExp(`<(?:input|textarea|select)[^>]*name="${name}"[^>]*>`))?.[0] ?? '';
const render = (overrides: Partial<typeof props> = {}) => renderToStaticMarkup(createElement(WriteValueDialog, { ...props, ...overrides }));

describe('write value dialog', () => {
  it('offers both buttons, each with a labelled dialog holding what happens, a required reason of at most 500 and Confirm/Cancel', () => {
    const html = render();
    expect(html).toContain('>Rotate now…</button>');
    expect(html).toContain('>Generate new value…</button>');
    expect(html.match(/<dialog /g)).toHaveLength(2);
    for (const [, labelledBy] of html.matchAll(/<dialog[^>]*aria-labelledby="([^"]+)"/g)) expect(html).toContain(`id="${labelledBy}"`);
    expect(html).toContain(props.rotateDescription);
    expect(html).toContain(props.generateDescription);
    expect(html.match(/<textarea[^>]*name="reason"[^>]*>/g)!.every((t) => t.includes('required') && t.includes('maxLength="500"'))).toBe(true);
    expect(html).toContain('Confirm: rotate now');
    expect(html).toContain('Cancel');
  });

  it('generate offers the presets, a length of 8 to 4096 and the password options', () => {
    const html = render({ canRotate: false });
    for (const preset of ['password', 'hex', 'base64url', 'uuid', 'key-256']) expect(html).toContain(`value="${preset}"`);
    expect(tagNamed(html, 'length')).toContain('min="8"');
    expect(tagNamed(html, 'length')).toContain('max="4096"');
    for (const cls of ['lower', 'upper', 'digits', 'symbols']) expect(html).toContain(`value="${cls}"`);
    expect(html).toContain('name="noLookAlike"');
    expect(html).not.toContain('Rotate now');
  });

  it('offers the JSON key only for items that may hold JSON', () => {
    expect(render()).not.toContain('name="jsonKey"');
    expect(tagNamed(render({ mayBeJson: true }), 'jsonKey')).toContain('maxLength="256"');
    expect(render({ mayBeJson: true })).toContain('Leave empty to replace the whole value.');
  });

  it('a Vault secret: the key help says the other keys are kept, not that an empty key replaces the whole value', () => {
    const html = renderToStaticMarkup(createElement(WriteValueDialog, { ...props, mayBeJson: true, basedOnVersion: '5', jsonKeyHelp: 'A Vault secret holds key/value pairs: the others are kept.' }));
    expect(html).toContain('A Vault secret holds key/value pairs: the others are kept.');
    expect(html).not.toContain('Leave empty to replace the whole value.');
  });

  it('renders nothing for someone who may do neither', () => {
    expect(render({ canRotate: false, canGenerate: false })).toBe('');
  });
});

describe('reveal panel', () => {
  it('starts with the button only: no value, no reason field until asked', () => {
    const html = renderToStaticMarkup(createElement(RevealValue, { storeId: 'local', name: '/prod/payments/stripe-key' }));
    expect(html).toContain('Reveal value…');
    expect(html).not.toContain('<textarea');
    expect(html).not.toContain('font-mono');
  });
});
