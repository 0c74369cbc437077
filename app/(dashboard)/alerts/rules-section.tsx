import { AlertSendTestButton } from '@/components/alert-send-test-button';
import { SimpleTable } from '@/components/simple-table';
import type { ActionResult } from '@/lib/actions/authed-action';
import type { AlertChannelDto, AlertRuleDto } from '@/lib/data/alerts';

// The alert rules and channels as CONFIG_FILE has them: ids and kinds only (a channel's URL, key
// or password lives in the environment and never reaches a page), with Send test for admins.

function selectorText(s: AlertRuleDto['selector']): string {
  const parts = [
    s.stores.length ? `stores ${s.stores.join(', ')}` : null,
    s.paths.length ? `paths ${s.paths.join(', ')}` : null,
    s.owners.length ? `owners ${s.owners.join(', ')}` : null,
    s.teams.length ? `teams ${s.teams.join(', ')}` : null,
    s.minSeverity ? `severity ${s.minSeverity} or worse` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'everything';
}

export function RulesSection({
  rules,
  channels,
  sendTest,
}: {
  rules: AlertRuleDto[];
  channels: AlertChannelDto[];
  sendTest: ((input: unknown) => Promise<ActionResult<{ deliveryId: number }>>) | null;
}) {
  return (
    <section aria-labelledby="alerts-rules-heading" className="min-w-0 space-y-3">
      <h2 id="alerts-rules-heading" className="font-semibold">
        Rules
      </h2>
      {rules.length === 0 ? (
        <p className="text-sm text-slate-600" data-testid="alert-rules-empty">
          No alert rules are configured. Add an <code>alerts:</code> section to CONFIG_FILE (see the README, “Alerts”).
        </p>
      ) : (
        <div className="overflow-x-auto">
          <SimpleTable headers={['Rule', 'Events', 'Selector', 'Channel', 'Mode']} phoneHidden={[3, 5]}>
            {rules.map((r) => (
              <tr key={r.id} data-testid="alert-rule-row" data-rule={r.id} className="align-top">
                <td className="px-3 py-2">
                  <span className="font-mono text-xs">{r.id}</span>
                  {r.description && <span className="block text-xs text-slate-500">{r.description}</span>}
                </td>
                <td className="px-3 py-2 text-xs">{r.events.join(', ')}</td>
                <td className="px-3 py-2 text-xs break-words">{selectorText(r.selector)}</td>
                <td className="px-3 py-2 text-xs">{r.channel ? `${r.channel.id} · ${r.channel.kind}` : '—'}</td>
                <td className="px-3 py-2 text-xs whitespace-nowrap">{r.mode === 'digest' ? `Daily digest at ${r.digestAt} UTC` : 'Immediate'}</td>
              </tr>
            ))}
          </SimpleTable>
        </div>
      )}
      <h3 className="text-sm font-medium">Channels</h3>
      {channels.length === 0 ? (
        <p className="text-sm text-slate-600">No alert channels are configured.</p>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white" data-testid="alert-channels">
          {channels.map((c) => (
            <li key={c.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2 text-sm" data-testid="alert-channel" data-channel={c.id}>
              <span>
                <span className="font-mono text-xs">{c.id}</span> <span className="text-slate-500">· {c.kind}</span>
              </span>
              {sendTest && <AlertSendTestButton channelId={c.id} action={sendTest} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
