// The dashboard's keyboard shortcuts as a pure function of a key press and what came before it,
// so the sequences (`g o`, …) and the rules on when a key is not a shortcut are tested without a
// browser. components/keyboard-shortcuts.tsx carries the actions out.

export type Destination = 'overview' | 'browse' | 'audit' | 'freshness';

export type ShortcutAction =
  | { kind: 'help' }
  | { kind: 'go'; to: Destination }
  | { kind: 'row'; step: 1 | -1 }
  | { kind: 'folder'; step: 1 | -1 };

/** A `g` pressed at this time (ms) and waiting for its second key, or nothing. */
export interface ShortcutState {
  pendingSince: number | null;
}

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
  /** The key went to an input, a textarea, a select or something contenteditable. */
  inField: boolean;
  /** When it was pressed (ms). */
  time: number;
}

export interface ShortcutOptions {
  /** Whether the person may see the audit timeline (`g a` is offered only then). */
  canAudit: boolean;
}

/** How long a `g` waits for its second key. */
export const SEQUENCE_TIMEOUT_MS = 1500;

export const DESTINATION_KEYS: Readonly<Record<string, Destination>> = { o: 'overview', b: 'browse', a: 'audit', f: 'freshness' };

export const DESTINATION_PATHS: Readonly<Record<Destination, string>> = { overview: '/', browse: '/browse', audit: '/audit', freshness: '/freshness' };

export const INITIAL_STATE: ShortcutState = { pendingSince: null };

/** What a key press does, and the state after it; action null: the key is left to the page. */
export function decideShortcut(state: ShortcutState, press: KeyPress, options: ShortcutOptions): { action: ShortcutAction | null; state: ShortcutState } {
  // Typing, and the browser's and the system's own shortcuts, are never taken.
  if (press.inField || press.ctrlKey || press.altKey || press.metaKey) return { action: null, state: INITIAL_STATE };
  const pending = state.pendingSince !== null && press.time - state.pendingSince <= SEQUENCE_TIMEOUT_MS;
  if (pending) {
    const to = DESTINATION_KEYS[press.key];
    if (to && (to !== 'audit' || options.canAudit)) return { action: { kind: 'go', to }, state: INITIAL_STATE };
    // Shift alone does not end the sequence (it comes before a capital or `?`).
    if (press.key === 'Shift') return { action: null, state };
    if (press.key !== 'g') return { action: null, state: INITIAL_STATE };
  }
  switch (press.key) {
    case 'g':
      return { action: null, state: { pendingSince: press.time } };
    case '?':
      return { action: { kind: 'help' }, state: INITIAL_STATE };
    case 'j':
      return { action: { kind: 'row', step: 1 }, state: INITIAL_STATE };
    case 'k':
      return { action: { kind: 'row', step: -1 }, state: INITIAL_STATE };
    case ']':
      return { action: { kind: 'folder', step: 1 }, state: INITIAL_STATE };
    case '[':
      return { action: { kind: 'folder', step: -1 }, state: INITIAL_STATE };
    default:
      return { action: null, state: INITIAL_STATE };
  }
}

/** The next row's index among `count` rows from `current` (-1: none focused yet), staying at the ends. */
export function nextIndex(current: number, count: number, step: 1 | -1): number {
  if (count === 0) return -1;
  if (current < 0) return step === 1 ? 0 : count - 1;
  return Math.max(0, Math.min(count - 1, current + step));
}

/** The shortcuts as the `?` dialog lists them. */
export function shortcutList(options: ShortcutOptions): { keys: string[]; what: string }[] {
  return [
    { keys: ['?'], what: 'Show these shortcuts' },
    { keys: ['/'], what: 'Search' },
    { keys: ['g', 'o'], what: 'Go to the overview' },
    { keys: ['g', 'b'], what: 'Go to browse' },
    ...(options.canAudit ? [{ keys: ['g', 'a'], what: 'Go to the audit log' }] : []),
    { keys: ['g', 'f'], what: 'Go to freshness' },
    { keys: ['j'], what: 'Next row of the table' },
    { keys: ['k'], what: 'Previous row of the table' },
    { keys: ['Enter'], what: 'Open the row' },
    { keys: [']'], what: 'Next folder down the folder tree (into the first sub-folder)' },
    { keys: ['['], what: 'Previous folder up the folder tree (back to the parent)' },
    { keys: ['Esc'], what: 'Close a dialog, the menu or the folder drawer' },
  ];
}
