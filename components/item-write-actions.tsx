'use client';

import { RotationProgress } from '@/components/rotation-progress';
import { WriteValueDialog } from '@/components/write-value-dialog';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';

interface Props {
  storeId: string;
  name: string;
  canGenerate: boolean;
  canRotate: boolean;
  rotateDescription: string;
  generateDescription: string;
  mayBeJson: boolean;
  /** Vault: the shown current version, for the write's check-and-set. */
  basedOnVersion?: string;
  jsonKeyHelp?: string;
}

/** Rotate and generate for those allowed to; the new value is never shown, only its new version (followed while AWS rotates it). */
export function ItemWriteActions(props: Props) {
  if (!props.canGenerate && !props.canRotate) return null;
  return (
    <WriteValueDialog
      {...props}
      rotateAction={rotateSecretAction}
      generateAction={generateValueAction}
      renderPending={(version) => <RotationProgress storeId={props.storeId} name={props.name} version={version} />}
    />
  );
}
