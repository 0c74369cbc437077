import { buildDemoItems } from '../../lib/demo/demo-data';

/** Every plaintext value the demo seeder wrote (deterministic, so recomputed here). */
export const DEMO_VALUES: string[] = buildDemoItems().flatMap((item) => item.versions.map((v) => v.value));
export const DEMO_ITEMS = buildDemoItems();
