import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

// The suppress and lift forms ask for the router, which only a running app mounts.
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import { findingRowData, suppressionExpiryDays, type FindingActions } from '@/components/finding-row';
import { FindingList } from '@/components/finding-list';
import { FindingSuppressForm } from '@/components/finding-suppress-form';
import { controlOf } from '@/lib/findings/controls';
import type { FindingDto } from '@/lib/findings/queries';

// One findings row as the server draws it: the control's title from the catalogue, the evidence in
// a sentence, the suppress form and the full evidence only as closed <details> (drawn in the browser
// when opened, e2e/demo-findings.spec.ts), a lift button on a suppressed finding, for those allowed.
// And the small record the row is drawn from: no control texts, no ARN, no last-seen date.

const action = async () => ({ ok: true as const, data: null });
const expiry = suppressionExpiryDays(new Date('2026-03-01T12:00:00Z'));
const ALLOWED: FindingActions = { suppress: action, lift: action, expiry };

const finding = (over: Partial<FindingDto> = {}): FindingDto => ({
  storeId: 'local',
  itemName: '/prod/payments/db-password',
  control: 'no-owner',
  controlTitle: controlOf('no-owner').title,
  severity: 'low',
  status: 'open',
  kind: 'SecureString',
  arn: 'arn:aws:ssm:us-east-1:111111111111:parameter/prod/payments/db-password',
  account: '111111111111',
  owner: null,
  firstSeenAt: '2026-02-01T00:00:00.000Z',
  lastSeenAt: '2026-03-01T00:00:00.000Z',
  resolvedAt: null,
  evidence: { summary: 'No owner or team tag.', facts: { tag: 'owner' } },
  remediation: controlOf('no-owner').remediation,
  suppression: null,
  href: '/items/local/prod/payments/db-password',
  ...over,
});

/** One row in a list, for a caller who may act on it (actions given) or not (null). */
const row = (f: FindingDto, actions: FindingActions | null, showItem = true) =>
  renderToStaticMarkup(createElement(FindingList, { rows: [findingRowData(f, actions !== null)], storeLabels: { local: 'Local' }, showItem, actions: actions ?? ALLOWED, className: '' }));

describe('a findings row', () => {
  it('draws an open finding with its item link, summary and a closed suppress toggle for someone allowed', () => {
    const html = row(finding(), ALLOWED);
    expect(html).toContain('data-testid="finding-row"');
    expect(html).toContain('data-control="no-owner"');
    expect(html).toContain(controlOf('no-owner').title);
    expect(html).toMatch(/<a [^>]*href="\/items\/local\/prod\/payments\/db-password"[^>]*>\/prod\/payments\/db-password<\/a>/);
    expect(html).toContain('data-testid="finding-item"');
    expect(html).toContain('No owner or team tag.');
    expect(html).toContain('data-testid="finding-suppress"');
    // Drawn on demand: neither the form nor the full evidence (with the control's remediation) is in the row's HTML.
    expect(html).not.toContain('name="expiresAt"');
    expect(html).not.toContain(controlOf('no-owner').remediation);
    expect(html).not.toContain('data-testid="finding-lift"');
  });

  it('offers no suppress toggle to someone refused, nor on a resolved finding', () => {
    expect(row(finding(), null)).not.toContain('finding-suppress');
    expect(row(finding({ status: 'resolved', resolvedAt: '2026-02-20T00:00:00.000Z' }), ALLOWED)).not.toContain('finding-suppress');
  });

  it('shows a suppression with its reason, and a lift button only for someone allowed', () => {
    const suppressed = finding({ status: 'suppressed', suppression: { id: 7, reason: 'owner arrives next sprint', expiresAt: '2026-04-01T00:00:00.000Z', createdBy: 'a@example.com', createdAt: '2026-03-01T00:00:00.000Z' } });
    const html = row(suppressed, ALLOWED);
    expect(html).toContain('data-testid="finding-suppression"');
    expect(html).toContain('owner arrives next sprint');
    expect(html).toContain('data-testid="finding-lift"');
    expect(html).not.toContain('finding-suppress"');
    expect(row(suppressed, null)).not.toContain('data-testid="finding-lift"');
  });

  it('names a workload finding without linking it', () => {
    const arn = 'arn:aws:lambda:us-east-1:111111111111:function:billing-sync';
    const html = row(finding({ storeId: '', itemName: arn, control: 'plaintext-in-lambda', kind: 'lambda-function', href: null, evidence: { summary: 'A variable looks like a secret.', facts: { resource: 'billing-sync' } } }), null);
    expect(html).toContain('data-testid="finding-resource"');
    expect(html).toContain('billing-sync');
    expect(html).toContain('Lambda function');
    expect(html).not.toContain('data-testid="finding-item"');
  });

  it('is drawn from a record without the control texts, the ARN or the last-seen date', () => {
    const data = findingRowData(finding(), true);
    for (const key of ['remediation', 'controlTitle', 'arn', 'lastSeenAt']) expect(data).not.toHaveProperty(key);
    expect(data).toMatchObject({ storeId: 'local', itemName: '/prod/payments/db-password', control: 'no-owner', evidence: { summary: 'No owner or team tag.' } });
  });
});

describe('the suppress form (what the toggle draws when opened)', () => {
  it('asks for a reason and a day between tomorrow and a year ahead, 30 days by default, for this finding', () => {
    const html = renderToStaticMarkup(createElement(FindingSuppressForm, { storeId: 'local', itemName: '/prod/payments/db-password', control: 'no-owner', ...expiry, action }));
    expect(html).toMatch(/<textarea name="reason" required=""/);
    expect(html).toContain('min="2026-03-02"');
    expect(html).toContain('max="2027-03-01"');
    expect(html).toMatch(/name="expiresAt" value="2026-03-31"/);
    expect(html).toContain('name="itemName" value="/prod/payments/db-password"');
    expect(html).toContain('name="control" value="no-owner"');
  });
});
