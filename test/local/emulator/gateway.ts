import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback';
import { MOTO_DEFAULT_ACCOUNT } from './moto';

/**
 * The local layer between the pipeline's code and moto. Lambda code never knows it is here: it
 * reaches it through AWS_ENDPOINT_URL. It does three things moto cannot:
 *
 * - Accounts: a KMS request that names another account's key by ARN is sent to that account
 *   (moto keeps accounts apart by the `x-moto-account-id` header and has no cross-account
 *   access). A bare key ID or alias stays in the caller's account, as in AWS.
 * - Declared key IDs: moto picks random key IDs, but the config names keys like
 *   `1234abcd-...`. The gateway maps each declared ID to the moto key made for it, both ways.
 * - Faults: tests and the chaos run can answer chosen requests with an error.
 * - Events: PutEvents calls are shown to the local mode, which routes them (see eventBus.ts).
 * - Clock: with a time scale above 1, SQS visibility delays are shortened by the same factor.
 */
export interface DeclaredKey {
  account: string;
  declaredId: string;
  motoId: string;
}

export interface GatewayRequest {
  method: string;
  path: string;
  target: string | undefined;
  body: string;
}

export type FaultResponse = { status: number; code: string; message: string; json?: boolean };
export type FaultRule = (request: GatewayRequest) => FaultResponse | undefined;

export interface Gateway {
  endpoint: string;
  declareKey(key: DeclaredKey): void;
  addFault(rule: FaultRule): () => void;
  requests: number;
  close(): Promise<void>;
}

const ARN_ACCOUNT = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):/;

export function kmsTargetAccount(body: string): string {
  try {
    const keyId = (JSON.parse(body) as { KeyId?: unknown }).KeyId;
    if (typeof keyId === 'string') return ARN_ACCOUNT.exec(keyId)?.[1] ?? MOTO_DEFAULT_ACCOUNT;
  } catch {
    // not JSON: leave it to moto to answer
  }
  return MOTO_DEFAULT_ACCOUNT;
}

export interface PutEventsObserver {
  (entries: { EventBusName?: string; Source?: string; DetailType?: string; Detail?: string; Resources?: string[] }[], eventIds: (string | undefined)[]): void;
}

export async function startGateway(motoEndpoint: string, options: { timeScale?: number; onPutEvents?: PutEventsObserver } = {}): Promise<Gateway> {
  const upstream = new URL(motoEndpoint);
  const keys: DeclaredKey[] = [];
  const faults = new Set<FaultRule>();
  const timeScale = options.timeScale ?? 1;
  let requests = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'] as string | undefined;
    const text = () => body.toString('utf8');
    const request: GatewayRequest = { method: req.method ?? 'GET', path: req.url ?? '/', target, body: target ? text() : '' };
    for (const fault of faults) {
      const answer = fault(request);
      if (answer) return sendFault(res, answer, req.method === 'HEAD');
    }
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
    let account = MOTO_DEFAULT_ACCOUNT;
    let mapped: DeclaredKey[] = [];
    if (target?.startsWith('TrentService.')) {
      account = kmsTargetAccount(request.body);
      mapped = keys.filter((k) => k.account === account);
      let rewritten = request.body;
      for (const key of mapped) rewritten = rewritten.split(key.declaredId).join(key.motoId);
      body = Buffer.from(rewritten, 'utf8');
      if (account !== MOTO_DEFAULT_ACCOUNT) headers['x-moto-account-id'] = account;
    } else if (timeScale > 1 && target === 'AmazonSQS.ChangeMessageVisibility') {
      const input = JSON.parse(request.body) as { VisibilityTimeout?: number };
      if (typeof input.VisibilityTimeout === 'number') input.VisibilityTimeout = Math.round(input.VisibilityTimeout / timeScale);
      body = Buffer.from(JSON.stringify(input), 'utf8');
    }
    headers['content-length'] = String(body.length);
    const upstreamReq = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        const responseChunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => responseChunks.push(chunk));
        upstreamRes.on('end', () => {
          let responseBody = Buffer.concat(responseChunks);
          if (mapped.length > 0) {
            let rewritten = responseBody.toString('utf8');
            for (const key of mapped) rewritten = rewritten.split(key.motoId).join(key.declaredId);
            responseBody = Buffer.from(rewritten, 'utf8');
          }
          if (target === 'AWSEvents.PutEvents' && upstreamRes.statusCode === 200 && options.onPutEvents) {
            const { Entries = [] } = JSON.parse(request.body) as { Entries?: Parameters<PutEventsObserver>[0] };
            const result = JSON.parse(responseBody.toString('utf8')) as { Entries?: { EventId?: string }[] };
            options.onPutEvents(Entries, (result.Entries ?? []).map((e) => e.EventId));
          }
          const responseHeaders = { ...upstreamRes.headers };
          if (req.method !== 'HEAD') responseHeaders['content-length'] = String(responseBody.length);
          delete responseHeaders['transfer-encoding'];
          res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders);
          res.end(req.method === 'HEAD' ? undefined : responseBody);
        });
      },
    );
    upstreamReq.on('error', (error) => sendFault(res, { status: 502, code: 'BadGateway', message: error.message, json: true }, false));
    upstreamReq.end(body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendFault(res, { status: 500, code: 'GatewayError', message: String(error), json: true }, false));
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    declareKey: (key) => {
      keys.push(key);
    },
    addFault: (rule) => {
      faults.add(rule);
      return () => faults.delete(rule);
    },
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendFault(res: ServerResponse, fault: FaultResponse, head: boolean) {
  if (res.headersSent) return;
  if (fault.json) {
    const body = JSON.stringify({ __type: fault.code, message: fault.message });
    res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': fault.code, 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>${fault.message}</Message></Error>`;
  res.writeHead(fault.status, { 'content-type': 'application/xml', ...(head ? {} : { 'content-length': Buffer.byteLength(body) }) });
  res.end(head ? undefined : body);
}
