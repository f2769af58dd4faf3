/**
 * Client of the hub's agency API for document-management systems: signs every request with the
 * system's HMAC credentials and maps refusals to HubApiError carrying the hub's error code.
 */
import { signRequest } from '../http/hmac-auth.ts';

export class HubApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly messageVi: string | undefined;
  readonly details: unknown;
  readonly errorId: string | undefined;

  constructor(
    status: number,
    body: { code?: string; message?: string; messageVi?: string; details?: unknown; id?: string },
  ) {
    super(body.message ?? `HTTP ${status}`);
    this.name = 'HubApiError';
    this.status = status;
    this.code = body.code ?? `HTTP_${status}`;
    this.messageVi = body.messageVi;
    this.details = body.details;
    this.errorId = body.id;
  }
}

export interface HubClientOptions {
  readonly baseUrl: string;
  readonly systemId: string;
  readonly secret: string;
  readonly fetch?: typeof fetch;
}

export interface InboxItem {
  readonly id: string;
  readonly docId: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly from: string;
  readonly to: string;
  readonly availableAt: string;
}

export interface SubmitResponse {
  readonly docId: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly sha256: string;
  readonly receivedAt: string;
  readonly recipients: { code: string; outcome: string; deliveredTo?: string; reason?: string }[];
  readonly duplicate: boolean;
  readonly receipt: string;
  readonly httpStatus: number;
}

export class HubClient {
  readonly #o: HubClientOptions;
  readonly #fetch: typeof fetch;

  constructor(o: HubClientOptions) {
    this.#o = o;
    this.#fetch = o.fetch ?? fetch;
  }

  async request(
    method: string,
    pathWithQuery: string,
    body?: Uint8Array | string,
    contentType?: string,
  ): Promise<Response> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? new Uint8Array(0));
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      authorization: signRequest(this.#o.systemId, this.#o.secret, {
        method,
        pathWithQuery,
        timestamp,
        body: bytes,
      }),
      accept: 'application/json',
    };
    if (contentType) headers['content-type'] = contentType;
    return this.#fetch(new URL(pathWithQuery, this.#o.baseUrl), {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: bytes as Uint8Array<ArrayBuffer> }),
    });
  }

  async #json<T>(res: Response): Promise<T> {
    const text = await res.text();
    const body: unknown = text ? JSON.parse(text) : {};
    if (!res.ok) throw new HubApiError(res.status, body as Record<string, string>);
    return body as T;
  }

  async submit(xml: string | Uint8Array): Promise<SubmitResponse> {
    const res = await this.request('POST', '/v1/documents', xml, 'application/xml');
    return { ...(await this.#json<Omit<SubmitResponse, 'httpStatus'>>(res)), httpStatus: res.status };
  }

  async inbox(
    q: { type?: 'edoc' | 'status'; limit?: number; after?: string; agency?: string } = {},
  ): Promise<{ items: InboxItem[]; next?: string }> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
    const qs = p.toString();
    return this.#json(await this.request('GET', `/v1/inbox${qs ? `?${qs}` : ''}`));
  }

  async download(id: string): Promise<Buffer> {
    const res = await this.request('GET', `/v1/inbox/${encodeURIComponent(id)}`);
    if (!res.ok) await this.#json(res);
    return Buffer.from(await res.arrayBuffer());
  }

  async ack(
    id: string,
    result: 'done' | 'fail' = 'done',
    reason?: string,
  ): Promise<{ id: string; transport: string }> {
    return this.#json(
      await this.request(
        'POST',
        `/v1/inbox/${encodeURIComponent(id)}/ack`,
        JSON.stringify({ result, reason }),
        'application/json',
      ),
    );
  }

  async document(docId: string): Promise<DocumentView> {
    return this.#json(await this.request('GET', `/v1/documents/${encodeURIComponent(docId)}`));
  }
}

export interface DocumentView {
  readonly id: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly sender: string;
  readonly sha256: string;
  readonly routing: { code: string; outcome: string; deliveredTo?: string; reason?: string }[];
  readonly receipt: string;
  readonly deliveries: {
    id: string;
    recipient: string;
    requestedCode?: string;
    transport: string;
    status: string | null;
    timeline: { code: string; at: string; by: string; description?: string }[];
  }[];
}
