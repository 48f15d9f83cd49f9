import type { AppContext } from '../context.ts';

// Placeholder until the academics module lands: the demo school needs courses and offerings.
export async function seedDemo(_ctx: AppContext): Promise<void> {}
