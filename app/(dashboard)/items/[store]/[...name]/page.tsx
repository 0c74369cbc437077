import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { AccessPanel } from '@/components/access-panel';
import { suppressionExpiryDays } from '@/components/finding-row';
import { FindingsPanel } from '@/components/findings-panel';
import { UsedByPanel } from '@/components/used-by-panel';
import { VaultAccessPlaceholder, VaultSettingsPanel } from '@/components/vault-settings-panel';
import { Breadcrumbs } from '@/components/breadcrumbs';
import { ItemWriteActions } from '@/components/item-write-actions';
import { RevealValue } from '@/components/reveal-value';
import { RotationScheduleForm } from '@/components/rotation-schedule-form';
import { RotationStatePanel } from '@/components/rotation-state-panel';
import { liftSuppression } from '@/lib/actions/lift-suppression';
import { setRotationScheduleAction } from '@/lib/actions/set-rotation-schedule';
import { suppressFinding } from '@/lib/actions/suppress-finding';
import { findingsForItem } from '@/lib/data/findings';
import { rotationStateFor } from '@/lib/data/rotation-state';
import { KindBadge } from '@/components/kind-badge';
import { FreshnessBadge } from '@/components/freshness-badge';
import { RelativeTime } from '@/components/relative-time';
import { StoreErrorBanner } from '@/components/store-error-banner';
import { VersionTimeline } from '@/components/version-timeline';
import { VersionCompareForm } from '@/components/version-compare-form';
import { VersionDiffPanel } from '@/components/version-diff-panel';
import { getVersionDiff, type VersionDiff } from '@/lib/data/version-diff';
import { itemHref } from '@/lib/links';
import { parseVersionCompare } from '@/lib/validations/version-diff';
import { can } from '@/lib/auth/authorize';
import { describeStoreFailure, findStore, getItemFreshness, getItemView, type ItemView } from '@/lib/data/browse';
import { usedByFor } from '@/lib/data/consumers';
import { itemAccessFor, vaultAccessSourceConfigured } from '@/lib/data/item-access';
import { requirePermission } from '@/lib/session';
import { itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';
import { ancestorsOf, leafOf } from '@/lib/validations/item-name';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ store: string; name: string[] }>; searchParams?: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { name } = await params;
  const parsed = itemNameFromSegments(name);
  return { title: parsed.ok ? parsed.value : 'Item' };
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[10rem_1fr] gap-3 py-1.5 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="break-all text-slate-900">{children}</dd>
    </div>
  );
}

export default async function ItemPage({ params, searchParams }: Props) {
  const { store: storeParam, name: segments } = await params;
  // The proxy already answered 400 for a malformed pair; parsed again so the page is safe on its own.
  const compare = parseVersionCompare((await searchParams) ?? {});
  const storeId = storeIdSchema.safeParse(storeParam);
  const name = itemNameFromSegments(segments);
  if (!storeId.success || !name.ok) notFound();
  const principal = await requirePermission('view-item', { storeId: storeId.data, name: name.value });
  if (!(await findStore(principal, storeId.data))) notFound();

  let view: ItemView | null = null;
  let failure: ReturnType<typeof describeStoreFailure> = null;
  try {
    view = await getItemView(principal, storeId.data, name.value);
  } catch (error) {
    failure = describeStoreFailure(error, storeId.data);
    if (!failure) throw error;
  }
  if (failure) return <StoreErrorBanner {...failure} />;
  if (!view) notFound();
  // Two versions to compare: a version the item does not have is a 404, as a missing item is.
  let diff: VersionDiff | null = null;
  if (compare.ok && compare.value) {
    const result = await getVersionDiff(principal, view.store.id, view.item.name, compare.value);
    if (!result || result.kind === 'no-such-version') notFound();
    diff = result.diff;
  }

  const { item } = view;
  const { details } = item;
  // From the inventory, like every table: the status, why, when it is due, and the policy.
  const freshness = await getItemFreshness(principal, view.store.id, item.name);
  // CloudTrail knows AWS items, Vault's audit log Vault items; the built-in store's access is in the dashboard's own log.
  const access = view.store.kind === 'local' ? null : await itemAccessFor(principal, view.store.id, item.name);
  // Who uses it (ECS, Lambda, CloudTrail readers): AWS items only, for those who may audit it.
  const usedBy = view.store.kind === 'local' || view.store.kind === 'vault' ? null : await usedByFor(principal, view.store.id, item.name);
  const isVault = view.store.kind === 'vault';
  // A Vault store's panel needs its audit log configured (empty until the first events); without one, how to add it.
  const accessSourced = access !== null && (!isVault || vaultAccessSourceConfigured(view.store.id));
  const address = { storeId: view.store.id, name: item.name };
  const rotationState = await rotationStateFor(principal, view.store.id, item);
  // null for anyone who may not audit this item: then there is no panel at all.
  const findings = await findingsForItem(principal, view.store.id, item.name);
  const maySuppress = can(principal, 'suppress-finding', address);
  const findingActions = { suppress: maySuppress ? suppressFinding : null, lift: maySuppress ? liftSuppression : null, expiry: suppressionExpiryDays() };
  return (
    <div className="space-y-6">
      <Breadcrumbs storeId={view.store.id} folders={ancestorsOf(item.folder)} current={leafOf(item.name)} />
      <header className="space-y-1" data-testid="item-header">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="break-all font-mono text-xl font-semibold">{item.name}</h1>
          <KindBadge kind={item.kind} />
        </div>
        {item.description && <p className="text-slate-600">{item.description}</p>}
        <p className="text-sm text-slate-500">
          The value is not shown here: browsing reads metadata only.
        </p>
      </header>

      <div className="grid gap-6 lg:grid-cols-2">
        <section className="rounded-lg border border-slate-200 bg-white p-4">
          <h2 className="mb-2 font-semibold">Metadata</h2>
          <dl className="divide-y divide-slate-100">
            <Field label="Store">{view.store.label}</Field>
            {details.arn && <Field label="ARN"><span className="font-mono text-xs">{details.arn}</span></Field>}
            <Field label="Current version"><span className="font-mono">{item.currentVersion}</span></Field>
            <Field label="Last changed">
              <RelativeTime iso={item.lastChangedAt} />
              {item.lastChangedBy ? ` by ${item.lastChangedBy}` : isVault ? ' (Vault does not record who wrote a version)' : ' by unknown'}
            </Field>
            <Field label="Freshness">
              {freshness ? (
                <span className="block space-y-1 [overflow-wrap:anywhere] [word-break:normal]" data-testid="item-freshness">
                  <FreshnessBadge status={freshness.status} />
                  <span className="block text-slate-700" data-testid="freshness-reason">{freshness.reason}</span>
                  {freshness.dueAt && (
                    <span className="block text-xs text-slate-500">
                      Due <RelativeTime iso={freshness.dueAt} showDate /> · policy for <span className="font-mono">{freshness.policy.path}</span>: at most{' '}
                      {freshness.policy.maxAgeDays} days, due soon {freshness.policy.warnBeforeDays} days before
                    </span>
                  )}
                </span>
              ) : (
                <span className="text-slate-500">Not in the inventory yet; it is shown after the next sync.</span>
              )}
            </Field>
            {item.labels.length > 0 && <Field label="Labels">{item.labels.join(', ')}</Field>}
            {details.type && <Field label="Type">{details.type}</Field>}
            {details.tier && <Field label="Tier">{details.tier}</Field>}
            {details.dataType && <Field label="Data type">{details.dataType}</Field>}
            {!isVault && <Field label="KMS key"><span className="font-mono text-xs">{item.kmsKeyId ?? '—'}</span></Field>}
            <Field label={isVault ? 'Custom metadata' : 'Tags'}>
              {Object.keys(item.tags).length === 0
                ? '—'
                : Object.entries(item.tags).map(([k, v]) => (
                    <span key={k} className="mr-1 inline-block rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs">
                      {k}={v}
                    </span>
                  ))}
            </Field>
          </dl>
        </section>

        {details.vault && <VaultSettingsPanel settings={details.vault} writable={view.store.writable} />}

        {(details.rotation || details.policies?.length || details.replicationRegions?.length) && (
          <section className="rounded-lg border border-slate-200 bg-white p-4">
            <h2 className="mb-2 font-semibold">Rotation and policies</h2>
            <dl className="divide-y divide-slate-100">
              {details.rotation && (
                <>
                  <Field label="Rotation">{details.rotation.enabled ? 'enabled' : 'disabled'}</Field>
                  {details.rotation.schedule && <Field label="Schedule">{details.rotation.schedule}</Field>}
                  {details.rotation.lastRotatedAt && <Field label="Last rotated"><RelativeTime iso={details.rotation.lastRotatedAt} /></Field>}
                  {details.rotation.nextRotationAt && <Field label="Next rotation"><RelativeTime iso={details.rotation.nextRotationAt} /></Field>}
                  {details.rotation.lastAccessedAt && <Field label="Last accessed"><RelativeTime iso={details.rotation.lastAccessedAt} /></Field>}
                  {details.rotation.lambdaArn && <Field label="Rotation function"><span className="font-mono text-xs">{details.rotation.lambdaArn}</span></Field>}
                </>
              )}
              {details.policies?.map((policy) => (
                <Field key={policy.type} label={policy.type}>
                  <span className="font-mono text-xs">{policy.text}</span>
                  {policy.status && <span className="ml-2 text-xs text-slate-500">({policy.status})</span>}
                </Field>
              ))}
              {details.replicationRegions && details.replicationRegions.length > 0 && (
                <Field label="Replicated to">
                  {details.replicationRegions.map((r) => `${r.region}${r.status ? ` (${r.status})` : ''}`).join(', ')}
                </Field>
              )}
            </dl>
          </section>
        )}
      </div>

      {rotationState && (rotationState.pending || rotationState.lastFailure) && <RotationStatePanel state={rotationState} />}

      {/* A Vault secret whose current version is deleted has no keys to keep: the settings panel says what to do. */}
      {view.store.writable && !details.vault?.currentDeleted && (
        <ItemWriteActions
          storeId={view.store.id}
          name={item.name}
          canGenerate={can(principal, 'generate', address)}
          canRotate={can(principal, 'rotate', address)}
          rotateDescription={
            details.rotation?.lambdaArn
              ? 'Runs the secret\'s rotation function in AWS (RotateSecret): the new version is AWSPENDING until the function promotes it to AWSCURRENT.'
              : isVault
                ? `Writes a new random 32-character password into the secret as version ${Number(item.currentVersion) + 1}, with check-and-set on version ${item.currentVersion}: if someone else writes a version first, nothing is overwritten. A secret with several keys needs the key to replace named; the others are kept.`
                : `Writes a new random 32-character password as the next version${view.store.kind === 'secretsmanager' ? ' (PutSecretValue)' : view.store.kind === 'ssm' ? ' (PutParameter, keeping type, KMS key and tier)' : ''}.`
          }
          generateDescription={
            isVault
              ? `Writes a value drawn from the preset you choose as version ${Number(item.currentVersion) + 1}, with check-and-set on version ${item.currentVersion}; for a secret with several keys, name the key to replace.`
              : `Writes a value drawn from the preset you choose as the next version${view.store.kind === 'secretsmanager' ? ' (PutSecretValue); for a JSON secret, name the key to replace' : ''}.`
          }
          mayBeJson={view.store.kind === 'secretsmanager' || view.store.kind === 'local' || isVault}
          basedOnVersion={isVault ? item.currentVersion : undefined}
          jsonKeyHelp={isVault ? 'A Vault secret holds key/value pairs: only this key’s value changes, the others are kept. Leave empty for a secret with a single key.' : undefined}
        />
      )}

      {/* AWS schedules only secrets that have a rotation function; without one it would refuse. */}
      {view.store.writable && details.rotation?.lambdaArn && can(principal, 'schedule-rotation', address) && (
        <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Rotation schedule">
          <h2 className="font-semibold">Rotation schedule</h2>
          <p className="text-sm text-slate-600">Sets RotationRules in AWS (the function is tested, not run now), or turns automatic rotation off.</p>
          <RotationScheduleForm
            storeId={view.store.id}
            name={item.name}
            schedule={details.rotation.schedule}
            enabled={details.rotation.enabled}
            action={setRotationScheduleAction}
          />
        </section>
      )}

      {can(principal, 'reveal', address) && <RevealValue storeId={view.store.id} name={item.name} />}

      {access && accessSourced && (
        <AccessPanel
          access={access}
          auditHref={`/audit?store=${encodeURIComponent(view.store.id)}&item=${encodeURIComponent(item.name)}`}
          source={isVault ? "Vault's audit log" : 'CloudTrail'}
        />
      )}
      {access && !accessSourced && <VaultAccessPlaceholder storeId={view.store.id} />}

      {usedBy && <UsedByPanel usedBy={usedBy} />}

      {findings && <FindingsPanel storeId={view.store.id} findings={findings} actionsFor={() => findingActions} />}

      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-4 font-semibold">
          Version history <span className="text-sm font-normal text-slate-500">({item.versions.length})</span>
        </h2>
        <div className="mb-4 space-y-3" id="compare">
          {!compare.ok && (
            <p role="alert" className="text-sm text-red-700">
              {compare.message}
            </p>
          )}
          <VersionCompareForm
            action={itemHref(view.store.id, item.name)}
            versions={item.versions}
            current={item.currentVersion}
            from={diff?.from.id}
            to={diff?.to.id}
          />
          {diff && <VersionDiffPanel diff={diff} />}
        </div>
        <VersionTimeline
          versions={item.versions}
          current={item.currentVersion}
          compareHref={(from, to) => `${itemHref(view.store.id, item.name)}?${new URLSearchParams({ from, to })}#compare`}
        />
      </section>
    </div>
  );
}
