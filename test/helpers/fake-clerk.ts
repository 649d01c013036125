import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Clerk Backend API (`createClerkClient({ apiUrl })`): records every
 * request and answers 200 with a minimal resource, unless a response is scripted for the path.
 */
export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. `/v1/organizations/org_1/metadata`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many requests it answers before the default applies again; unlimited when absent. */
  times?: number;
}

export interface FakeClerk {
  /** Base URL to pass as `apiUrl`. */
  url: string;
  requests: RecordedRequest[];
  /** Answer `method path` with `response` (first matching script wins, in the order added). */
  script(method: string, path: string, response: ScriptedResponse): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeClerk(): Promise<FakeClerk> {
  const requests: RecordedRequest[] = [];
  let scripts: Array<{ method: string; path: string; response: ScriptedResponse; used: number }> = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const method = req.method ?? 'GET';
      requests.push({ method, path, headers: req.headers, body: text ? JSON.parse(text) : null, at: Date.now() });

      const scripted = scripts.find(
        (entry) =>
          entry.method === method &&
          entry.path === path &&
          (entry.response.times === undefined || entry.used < entry.response.times),
      );
      if (scripted) scripted.used += 1;
      const response = scripted?.response ?? { status: 200 };
      // @clerk/backend parses JSON only when Content-Type is exactly `application/json`.
      res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
      const body = response.body ?? (response.status >= 400 ? errorBody(response.status) : defaultBody(path, text));
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(method, path, response) {
      scripts.push({ method, path, response, used: 0 });
    },
    reset() {
      requests.length = 0;
      scripts = [];
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** `/v1/organizations/org_1/metadata` → `{ object: 'organization', id: 'org_1', … }`. */
function defaultBody(path: string, text: string): Record<string, unknown> {
  const [, , collection, id] = path.split('/');
  const object = collection?.replace(/s$/, '') ?? 'unknown';
  const sent = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  return { object, id, public_metadata: sent.public_metadata ?? {}, private_metadata: {} };
}

/** Clerk's error envelope (https://clerk.com/docs/reference/backend-api: `errors[]` with code, message). */
function errorBody(status: number): Record<string, unknown> {
  const code = status === 404 ? 'resource_not_found' : status === 429 ? 'too_many_requests' : 'error';
  return {
    errors: [{ code, message: `fake clerk answered ${status}`, long_message: `fake clerk answered ${status}` }],
  };
}
