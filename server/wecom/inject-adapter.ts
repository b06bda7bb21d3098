import axios, { AxiosAdapter, AxiosError, AxiosHeaders, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/** The part of a Fastify instance the adapter needs (app.inject). */
export interface Injectable {
  inject(opts: {
    method: string;
    url: string;
    payload?: string;
    headers?: Record<string, string>;
  }): PromiseLike<{ statusCode: number; statusMessage?: string; body: string; headers: Record<string, unknown> }>;
}

/**
 * An axios adapter that serves requests whose URL starts with `prefix()` through `target.inject`
 * (the in-process sandbox: no socket, works in tests that never listen) and everything else with
 * axios's own HTTP adapter. The prefix is read per request because tests set
 * publicBaseUrl after listen(). The client's code path (tokens, errcodes, metrics) is unchanged.
 */
/**
 * The adapter for HTTP a feature sends to other systems: in sandbox mode a URL on this server's
 * own /sandbox/ goes through app.inject (tests and the demo work without listening); undefined
 * (axios's own HTTP) otherwise.
 */
export function sandboxHttpAdapter(
  app: Injectable & { config: { publicBaseUrl: string; wecom: { sandbox: boolean } } },
): AxiosAdapter | undefined {
  if (!app.config.wecom.sandbox) return undefined;
  const base = () => app.config.publicBaseUrl;
  return injectAdapter(app, () => `${base()}/sandbox/`, base);
}

export function injectAdapter(
  target: Injectable,
  prefix: () => string | undefined,
  strip: () => string = () => '',
): AxiosAdapter {
  const http = axios.getAdapter(['http', 'fetch']);
  return async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    const url = axios.getUri(config);
    const p = prefix();
    if (!p || !url.startsWith(p)) return http(config);
    const headers: Record<string, string> = {};
    const given = AxiosHeaders.from(config.headers as never).toJSON() as Record<string, unknown>;
    for (const [k, v] of Object.entries(given)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    const payload =
      config.data === undefined || config.data === null
        ? undefined
        : typeof config.data === 'string'
          ? config.data
          : JSON.stringify(config.data);
    if (payload === undefined) delete headers['content-type'];
    const pending = target.inject({
      method: (config.method ?? 'get').toUpperCase(),
      url: url.slice(strip().length),
      payload,
      headers,
    });
    // The client's timeout holds here too, as over a socket (axios only enforces it in its own adapters).
    let timer: NodeJS.Timeout | undefined;
    const res = await Promise.race([
      Promise.resolve(pending),
      ...(config.timeout
        ? [
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(new AxiosError(`timeout of ${config.timeout}ms exceeded`, AxiosError.ECONNABORTED, config)),
                config.timeout,
              );
            }),
          ]
        : []),
    ]).finally(() => clearTimeout(timer));
    return {
      data: res.body,
      status: res.statusCode,
      statusText: res.statusMessage ?? '',
      headers: AxiosHeaders.from(res.headers as never),
      config,
      request: {},
    };
  };
}
