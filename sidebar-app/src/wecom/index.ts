import type { HttpClient } from '../services/http';
import type { WecomAdapter } from './adapter';
import { createSandboxAdapter } from './sandbox';

export * from './adapter';

/** Sandbox mock when the server says so; otherwise the real SDK, loaded on demand. */
export async function createWecomAdapter(
  sandbox: boolean,
  http: HttpClient,
  opts: { pageUrl: () => string; userid?: () => string | undefined },
): Promise<WecomAdapter> {
  if (sandbox) return createSandboxAdapter(http, opts);
  const { createRealAdapter } = await import('./real');
  return createRealAdapter();
}
