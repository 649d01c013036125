import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  webhookId: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
  /** 1-based count of requests carrying this webhook-id, this one included. */
  attempt: number;
}

export type MerchantReply =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Never answer (the socket stays open until the sender gives up). */
  | 'hang';

export interface FakeMerchant {
  url: string;
  received: ReceivedWebhook[];
  /** Requests whose socket the sender closed while we were still holding them. */
  abandoned: number;
  close(): Promise<void>;
}

/** A merchant endpoint on 127.0.0.1: records every request and answers as `reply` decides. */
export async function startFakeMerchant(
  reply: (request: ReceivedWebhook, all: ReceivedWebhook[]) => MerchantReply,
): Promise<FakeMerchant> {
  const received: ReceivedWebhook[] = [];
  const merchant = { received, abandoned: 0 } as FakeMerchant;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const webhookId = String(req.headers['webhook-id'] ?? '');
      const request: ReceivedWebhook = {
        webhookId,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
        attempt: received.filter((earlier) => earlier.webhookId === webhookId).length + 1,
      };
      received.push(request);
      answer(res, reply(request, received), () => merchant.abandoned++);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  merchant.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  merchant.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return merchant;
}

function answer(res: ServerResponse, reply: MerchantReply, onAbandoned: () => void) {
  if (reply === 'hang') {
    res.on('close', onAbandoned);
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
  res.end(reply.body ?? '');
}
