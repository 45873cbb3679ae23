import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { functionNameOf } from '../../../shared/stack/stackNames';
import { listenOnLoopback } from './loopback';
import { MOTO_DEFAULT_ACCOUNT } from './moto';
import { translateNotificationXml } from './s3FilterMatching';

/**
 * The local layer between the pipeline's code and moto. Lambda code never knows it is here: it
 * reaches it through AWS_ENDPOINT_URL. It does what moto cannot:
 *
 * - Accounts: a KMS request that names another account's key by ARN is sent to that account
 *   (moto keeps accounts apart by the `x-moto-account-id` header and has no cross-account
 *   access). A bare key ID or alias stays in the caller's account, as in AWS.
 * - Declared key IDs: moto picks random key IDs, but the config names keys like
 *   `1234abcd-...`. The gateway maps each declared ID to the moto key made for it, both ways.
 * - Faults: tests and the chaos run can answer chosen requests with an error.
 * - KMS DryRun, which moto ignores (see dryRun below), and S3 notification filters in the form
 *   S3 uses (s3FilterMatching.ts).
 * - Lambda Invoke of the functions the local mode registers (the preflight function).
 * - Events: PutEvents calls are shown to the local mode, which routes them (see eventBus.ts).
 * - CloudTrail: the alias, bucket-default, bucket-policy, bus-policy and trail calls that a trail
 *   records and the stack's TrustChangesRule watches are shown to the local mode too, once they
 *   succeed (the Transcribe emulator does the same for its Delete*Job calls).
 * - Clock: with a time scale above 1, SQS visibility delays are shortened by the same factor.
 * - SQS's characters: a SendMessage whose body or String attribute holds a character XML does
 *   not is refused, as SQS refuses it (moto stores it).
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

/** An error answer: JSON protocols, S3's XML (the default), or the query protocol's `ErrorResponse` (STS). */
export type FaultResponse = { status: number; code: string; message: string; json?: boolean; query?: boolean };
export type FaultRule = (request: GatewayRequest) => FaultResponse | undefined;

export interface Gateway {
  endpoint: string;
  declareKey(key: DeclaredKey): void;
  addFault(rule: FaultRule): () => void;
  registerFunction(name: string, fn: LocalFunction): void;
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

/** A management call that succeeded, as a CloudTrail trail records it (the fields the stack's rules read). */
export interface TrailedCall {
  eventSource: 'kms.amazonaws.com' | 's3.amazonaws.com' | 'events.amazonaws.com' | 'transcribe.amazonaws.com' | 'cloudtrail.amazonaws.com' | 'lambda.amazonaws.com' | 'monitoring.amazonaws.com' | 'sns.amazonaws.com' | 'sqs.amazonaws.com';
  eventName: string;
  account: string;
  requestParameters: Record<string, unknown>;
  /** What the call answered, where a rule reads it (the function a trigger belongs to). */
  responseElements?: Record<string, unknown>;
}

const TRAILED_ALIAS_CALLS = new Set(['CreateAlias', 'UpdateAlias', 'DeleteAlias']);
/** KMS's calls that take a key out of use or delete it (its `keyId`, as the caller named it; KMS's answer names its ARN). */
const TRAILED_KEY_CALLS = new Set(['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy']); // DeleteImportedKeyMaterial too is paged, but moto imports no key material
/** SQS's calls that change who may send to a queue, what it keeps, or empty or delete it. */
const TRAILED_QUEUE_CALLS = new Set(['SetQueueAttributes', 'AddPermission', 'RemovePermission', 'PurgeQueue', 'DeleteQueue']);
/** EventBridge's calls that turn a rule off, delete or rewrite it (its `name`), or change its targets (its `rule`). */
const TRAILED_RULE_CALLS: Record<string, 'name' | 'rule'> = { DisableRule: 'name', DeleteRule: 'name', PutRule: 'name', PutTargets: 'rule', RemoveTargets: 'rule' };
/** CloudWatch's calls that delete alarms or stop their actions (`alarmNames`), or rewrite one (`alarmName`). */
const TRAILED_ALARM_CALLS = new Set(['DeleteAlarms', 'DisableAlarmActions', 'PutMetricAlarm']);
/** CloudWatch's X-Amz-Target in its JSON protocol. */
const CLOUDWATCH_SERVICE = 'GraniteServiceVersion20100801';
/** SNS's calls that change who may publish to a topic or delete it, and that remove or filter a subscription. */
const TRAILED_TOPIC_CALLS = new Set(['SetTopicAttributes', 'RemovePermission', 'DeleteTopic', 'Unsubscribe', 'SetSubscriptionAttributes']);
const TRAILED_TRAIL_CALLS = new Set(['StopLogging', 'StartLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors']);
/** CloudTrail's X-Amz-Target: `CloudTrail_20131101.<Operation>` from the JavaScript SDK; the AWS CLI prefixes it with `com.amazonaws.cloudtrail.v20131101.`. */
const CLOUDTRAIL_TARGET = /(?:^|\.)CloudTrail_20131101\.(\w+)$/;

/** A trailed call before the account is known: what CloudTrail records of it. */
type TrailedRecord = Omit<TrailedCall, 'account'>;

/**
 * Lambda's REST calls that change a function or its trigger, by method and path, with the event
 * name (and API version) CloudTrail gives them and the function or mapping each names.
 */
const TRAILED_LAMBDA_CALLS: { method: string; path: RegExp; eventName: string }[] = [
  { method: 'POST', path: /^\/2015-03-31\/functions\/?$/, eventName: 'CreateFunction20150331' },
  { method: 'PUT', path: /^\/2015-03-31\/functions\/([^/]+)\/code$/, eventName: 'UpdateFunctionCode20150331v2' },
  { method: 'PUT', path: /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, eventName: 'UpdateFunctionConfiguration20150331v2' },
  { method: 'PUT', path: /^\/2017-10-31\/functions\/([^/]+)\/concurrency$/, eventName: 'PutFunctionConcurrency20171031' },
  { method: 'PUT', path: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/, eventName: 'PutFunctionEventInvokeConfig' },
  { method: 'POST', path: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/, eventName: 'UpdateFunctionEventInvokeConfig' },
  { method: 'DELETE', path: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/, eventName: 'DeleteFunctionEventInvokeConfig' },
  { method: 'DELETE', path: /^\/2015-03-31\/functions\/([^/]+)$/, eventName: 'DeleteFunction20150331' },
  { method: 'DELETE', path: /^\/2015-03-31\/functions\/([^/]+)\/policy\/([^/]+)$/, eventName: 'RemovePermission20150331v2' },
  { method: 'POST', path: /^\/2015-03-31\/event-source-mappings\/?$/, eventName: 'CreateEventSourceMapping20150331' },
  { method: 'PUT', path: /^\/2015-03-31\/event-source-mappings\/([^/]+)$/, eventName: 'UpdateEventSourceMapping20150331' },
  { method: 'DELETE', path: /^\/2015-03-31\/event-source-mappings\/([^/]+)$/, eventName: 'DeleteEventSourceMapping20150331' },
];

/**
 * A Lambda call as CloudTrail records it: the function named in the path (or, creating one, the
 * body); a trigger's queue from the request that creates it, and its UUID, function and queue
 * from the answer (none when the call was refused).
 */
function trailedLambdaCall(request: GatewayRequest, answer: string): TrailedRecord | undefined {
  const pathname = new URL(request.path, 'http://gateway').pathname;
  for (const { method, path, eventName } of TRAILED_LAMBDA_CALLS) {
    const match = request.method === method ? path.exec(pathname) : null;
    if (!match) continue;
    const named = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const input = (request.body ? JSON.parse(request.body) : {}) as { FunctionName?: string; Role?: string; ReservedConcurrentExecutions?: number; Enabled?: boolean; EventSourceArn?: string };
    const call = { eventSource: 'lambda.amazonaws.com' as const, eventName };
    if (eventName.includes('EventSourceMapping')) {
      const { UUID, FunctionArn, EventSourceArn } = JSON.parse(answer || '{}') as { UUID?: string; FunctionArn?: string; EventSourceArn?: string };
      const requestParameters = named === undefined ? { functionName: input.FunctionName, eventSourceArn: input.EventSourceArn } : { uUID: named };
      return {
        ...call,
        requestParameters: { ...requestParameters, ...(input.Enabled !== undefined && { enabled: input.Enabled }) },
        ...(FunctionArn && { responseElements: { uUID: UUID, functionArn: FunctionArn, eventSourceArn: EventSourceArn } }),
      };
    }
    return {
      ...call,
      requestParameters: {
        functionName: named ?? input.FunctionName,
        ...(match[2] !== undefined && { statementId: decodeURIComponent(match[2]) }),
        ...(input.Role && { role: input.Role }),
        ...(input.ReservedConcurrentExecutions !== undefined && { reservedConcurrentExecutions: input.ReservedConcurrentExecutions }),
      },
    };
  }
  return undefined;
}

/** An SQS call on a queue, whichever protocol named it. */
const queueCall = (operation: string, queueUrl: string | null | undefined): TrailedRecord | undefined =>
  TRAILED_QUEUE_CALLS.has(operation) ? { eventSource: 'sqs.amazonaws.com', eventName: operation, requestParameters: { queueUrl } } : undefined;

/** A CloudWatch call on alarms, whichever protocol named it: the list a delete or disable names, or the one alarm a rewrite names. */
const alarmCall = (operation: string, alarmNames: string[] | undefined, alarmName: string | undefined): TrailedRecord | undefined =>
  TRAILED_ALARM_CALLS.has(operation)
    ? { eventSource: 'monitoring.amazonaws.com', eventName: operation, requestParameters: operation === 'PutMetricAlarm' ? { alarmName } : { alarmNames: alarmNames ?? [] } }
    : undefined;

/** A call in a JSON protocol, named by its X-Amz-Target; `answer` is the service's. */
function trailedJsonCall(target: string, body: string, answer: string): TrailedRecord | undefined {
  const cloudTrailOperation = CLOUDTRAIL_TARGET.exec(target)?.[1];
  if (cloudTrailOperation !== undefined) {
    if (!TRAILED_TRAIL_CALLS.has(cloudTrailOperation)) return undefined;
    const input = JSON.parse(body) as { Name?: string; TrailName?: string };
    return { eventSource: 'cloudtrail.amazonaws.com', eventName: cloudTrailOperation, requestParameters: { name: input.Name ?? input.TrailName } };
  }
  const [service, operation = ''] = target.split('.');
  if (service === 'AWSEvents' && (operation === 'PutPermission' || operation === 'RemovePermission')) {
    const input = JSON.parse(body) as { EventBusName?: string; StatementId?: string };
    return { eventSource: 'events.amazonaws.com', eventName: operation, requestParameters: { ...(input.EventBusName && { eventBusName: input.EventBusName }), ...(input.StatementId && { statementId: input.StatementId }) } };
  }
  const ruleField = service === 'AWSEvents' ? TRAILED_RULE_CALLS[operation] : undefined;
  if (ruleField) {
    const input = JSON.parse(body) as { Name?: string; Rule?: string; EventBusName?: string };
    return { eventSource: 'events.amazonaws.com', eventName: operation, requestParameters: { [ruleField]: input.Name ?? input.Rule, ...(input.EventBusName && { eventBusName: input.EventBusName }) } };
  }
  if (service === CLOUDWATCH_SERVICE) {
    const input = JSON.parse(body) as { AlarmNames?: string[]; AlarmName?: string };
    return alarmCall(operation, input.AlarmNames, input.AlarmName);
  }
  if (service === 'AmazonSQS') return queueCall(operation, (JSON.parse(body) as { QueueUrl?: string }).QueueUrl);
  if (service === 'TrentService' && TRAILED_KEY_CALLS.has(operation)) {
    const input = JSON.parse(body) as { KeyId?: string; PendingWindowInDays?: number; PolicyName?: string; Policy?: string };
    // moto answers some calls (PutKeyPolicy) with the body null.
    const { KeyId, KeyState, DeletionDate } = (JSON.parse(answer || '{}') ?? {}) as { KeyId?: string; KeyState?: string; DeletionDate?: number };
    return {
      eventSource: 'kms.amazonaws.com',
      eventName: operation,
      requestParameters: {
        keyId: input.KeyId,
        ...(input.PendingWindowInDays !== undefined && { pendingWindowInDays: input.PendingWindowInDays }),
        ...(input.Policy !== undefined && { policyName: input.PolicyName ?? 'default', policy: input.Policy }),
      },
      ...(KeyId && { responseElements: { keyId: KeyId, keyState: KeyState, ...(DeletionDate !== undefined && { deletionDate: new Date(DeletionDate * 1000).toUTCString() }) } }),
    };
  }
  if (service === 'TrentService' && TRAILED_ALIAS_CALLS.has(operation)) {
    const input = JSON.parse(body) as { AliasName?: string; TargetKeyId?: string };
    return { eventSource: 'kms.amazonaws.com', eventName: operation, requestParameters: { aliasName: input.AliasName, ...(input.TargetKeyId && { targetKeyId: input.TargetKeyId }) } };
  }
  return undefined;
}

/**
 * A call in the query protocol: SNS's, and SQS's and CloudWatch's as the AWS CLI v1 speaks them. A
 * form carries the Action and what it acts on, which tells the service (and the two services'
 * RemovePermission apart).
 */
function trailedQueryCall(form: URLSearchParams): TrailedRecord | undefined {
  const action = form.get('Action') ?? '';
  if (form.has('QueueUrl')) return queueCall(action, form.get('QueueUrl'));
  if (form.has('AlarmName') || form.has('AlarmNames.member.1')) {
    const names = [...form.entries()].filter(([key]) => key.startsWith('AlarmNames.member.')).map(([, value]) => value);
    return alarmCall(action, names, form.get('AlarmName') ?? undefined);
  }
  const topicOrSubscription = form.has('TopicArn') ? { topicArn: form.get('TopicArn') } : form.has('SubscriptionArn') ? { subscriptionArn: form.get('SubscriptionArn') } : undefined;
  if (!topicOrSubscription || !TRAILED_TOPIC_CALLS.has(action)) return undefined;
  const attributeName = form.get('AttributeName');
  return { eventSource: 'sns.amazonaws.com', eventName: action, requestParameters: { ...topicOrSubscription, ...(attributeName && { attributeName }) } };
}

/**
 * A bucket's default encryption, policy, notifications, lifecycle, replication, public access
 * block, ACL or ownership controls changed: path-style, as the local mode addresses S3 (/BUCKET?encryption, or
 * /BUCKET/?encryption).
 */
function trailedBucketCall(request: GatewayRequest): TrailedRecord | undefined {
  if (request.method !== 'PUT' && request.method !== 'DELETE') return undefined;
  const url = new URL(request.path, 'http://gateway');
  const bucket = /^\/([^/]+)\/?$/.exec(url.pathname)?.[1];
  const subresource = (['encryption', 'policy', 'notification', 'lifecycle', 'replication', 'publicAccessBlock', 'acl', 'ownershipControls'] as const).find((name) => url.searchParams.has(name));
  if (!bucket || !subresource) return undefined;
  // The name of S3's REST operation; VerifierChangesRule and TrustChangesRule match the notification and lifecycle calls under their API names too.
  const eventName = `${request.method === 'PUT' ? 'Put' : 'Delete'}Bucket${subresource.charAt(0).toUpperCase()}${subresource.slice(1)}`;
  return { eventSource: 's3.amazonaws.com', eventName, requestParameters: { bucketName: decodeURIComponent(bucket) } };
}

/** The alias, key, bucket, bus-policy, trail, Lambda, queue, topic, rule and alarm calls among the requests the gateway forwards, as a trail records them; undefined for any other. */
export function trailedCall(request: GatewayRequest, account: string, answer = ''): TrailedCall | undefined {
  const form = !request.target && request.method === 'POST' && /^Action=|&Action=/.test(request.body) ? new URLSearchParams(request.body) : undefined;
  const record = request.target ? trailedJsonCall(request.target, request.body, answer) : form ? trailedQueryCall(form) : (trailedLambdaCall(request, answer) ?? trailedBucketCall(request));
  return record && { ...record, account };
}

/** A Lambda function the gateway answers Invoke for (the preflight function in the local mode). */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What SQS takes in a message's text (its body and String attributes): XML's characters. */
const SQS_CHARACTERS = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/** SQS's answer to a SendMessage whose text holds another character, naming the part and the character; undefined for any other request. */
export function sqsContentFault(target: string | undefined, body: string): FaultResponse | undefined {
  if (target !== 'AmazonSQS.SendMessage') return undefined;
  let input: { MessageBody?: string; MessageAttributes?: Record<string, { StringValue?: string }> };
  try {
    input = JSON.parse(body) as typeof input;
  } catch {
    return undefined; // not JSON: leave it to moto to answer
  }
  const attributes = Object.entries(input.MessageAttributes ?? {}).map(([name, value]): [string, string | undefined] => [`message attribute ${name}`, value.StringValue]);
  for (const [part, text] of [['message body', input.MessageBody] as [string, string | undefined], ...attributes]) {
    if (text === undefined || SQS_CHARACTERS.test(text)) continue;
    const bad = [...text].find((c) => !SQS_CHARACTERS.test(c)) as string;
    const code = `#x${(bad.codePointAt(0) as number).toString(16).toUpperCase()}`;
    return { status: 400, code: 'InvalidMessageContents', message: `Invalid binary character '${code}' was found in the ${part}, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`, json: true };
  }
  return undefined;
}

const DRY_RUN_TARGETS = new Set(['TrentService.GenerateDataKey', 'TrentService.Encrypt']);
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations/;

export async function startGateway(
  motoEndpoint: string,
  options: { timeScale?: number; onPutEvents?: PutEventsObserver; onTrailedCall?: (call: TrailedCall) => void } = {},
): Promise<Gateway> {
  const upstream = new URL(motoEndpoint);
  const keys: DeclaredKey[] = [];
  const faults = new Set<FaultRule>();
  const functions = new Map<string, LocalFunction>();
  const timeScale = options.timeScale ?? 1;
  let requests = 0;

  const forward = (method: string, path: string, headers: Record<string, string | string[] | undefined>, body: Buffer) =>
    new Promise<UpstreamAnswer>((resolve, reject) => {
      const upstreamReq = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers: { ...headers, host: upstream.host, 'content-length': String(body.length) } }, (upstreamRes) => {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('end', () => resolve({ status: upstreamRes.statusCode ?? 502, headers: { ...upstreamRes.headers }, body: Buffer.concat(chunks) }));
        upstreamRes.on('error', reject);
      });
      upstreamReq.on('error', reject);
      upstreamReq.end(body);
    });

  /**
   * moto ignores DryRun and performs the call. KMS evaluates a DryRun like the call and answers
   * DryRunOperationException where the call would succeed, so the gateway asks moto for the key's
   * state (moto does not refuse a disabled key), performs the call without DryRun, and turns its
   * success into that answer. Key policies are not modelled: refusals are injected as faults.
   */
  const dryRun = async (target: string, input: Record<string, unknown>, headers: Record<string, string | string[] | undefined>): Promise<FaultResponse | UpstreamAnswer> => {
    const describe = await forward('POST', '/', { ...headers, 'x-amz-target': 'TrentService.DescribeKey' }, Buffer.from(JSON.stringify({ KeyId: input.KeyId })));
    if (describe.status === 200) {
      const state = (JSON.parse(describe.body.toString('utf8')) as { KeyMetadata?: { KeyState?: string; Arn?: string } }).KeyMetadata;
      if (state?.KeyState === 'Disabled') return { status: 400, code: 'DisabledException', message: `${state.Arn} is disabled.`, json: true };
      if (state?.KeyState && state.KeyState !== 'Enabled') return { status: 400, code: 'KMSInvalidStateException', message: `${state.Arn} is ${state.KeyState}.`, json: true };
    }
    const { DryRun: _dryRun, ...call } = input;
    const answer = await forward('POST', '/', { ...headers, 'x-amz-target': target }, Buffer.from(JSON.stringify(call)));
    return answer.status === 200 ? { status: 400, code: 'DryRunOperationException', message: 'The request would have succeeded, but the DryRun option is set.', json: true } : answer;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'] as string | undefined;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const text = () => body.toString('utf8');
    // JSON protocols name the operation in X-Amz-Target; the query protocol (STS) in a form body;
    // Lambda's REST calls in the method and path, with a JSON body.
    const contentType = String(req.headers['content-type'] ?? '');
    const form = contentType.includes('x-www-form-urlencoded');
    const lambdaRest = /^\/20\d\d-\d\d-\d\d\//.test(path) && contentType.includes('json');
    const request: GatewayRequest = { method, path, target, body: target || form || lambdaRest ? text() : '' };
    for (const fault of faults) {
      const answer = fault(request);
      if (answer) return sendFault(res, answer, method === 'HEAD');
    }
    const refused = sqsContentFault(target, request.body);
    if (refused) return sendFault(res, refused, false);
    const invoked = INVOKE_PATH.exec(path);
    if (invoked && method === 'POST') {
      // Lambda takes a function's name or ARN (a qualifier after it is ignored here).
      const name = functionNameOf(decodeURIComponent(invoked[1] as string));
      return invokeFunction(res, functions.get(name), name, text(), req.headers['x-amz-invocation-type'] === 'Event');
    }

    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    let account = MOTO_DEFAULT_ACCOUNT;
    let mapped: DeclaredKey[] = [];
    const query = new URL(path, 'http://gateway').searchParams;
    const notificationCall = !target && query.has('notification');
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
    } else if (notificationCall && method === 'PUT') {
      body = Buffer.from(translateNotificationXml(text(), 'to-moto'), 'utf8');
    }
    const input = target && DRY_RUN_TARGETS.has(target) ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : undefined;
    const answer: UpstreamAnswer | FaultResponse = input?.DryRun === true ? await dryRun(target as string, input, headers) : await forward(method, path, headers, body);
    if ('code' in answer) return sendFault(res, answer, false);
    let responseBody = answer.body;
    if (mapped.length > 0) {
      let rewritten = responseBody.toString('utf8');
      for (const key of mapped) rewritten = rewritten.split(key.motoId).join(key.declaredId);
      responseBody = Buffer.from(rewritten, 'utf8');
    }
    if (notificationCall && method === 'GET' && answer.status === 200) {
      responseBody = Buffer.from(translateNotificationXml(responseBody.toString('utf8'), 'from-moto'), 'utf8');
    }
    if (target === 'AWSEvents.PutEvents' && answer.status === 200 && options.onPutEvents) {
      const { Entries = [] } = JSON.parse(request.body) as { Entries?: Parameters<PutEventsObserver>[0] };
      const result = JSON.parse(responseBody.toString('utf8')) as { Entries?: { EventId?: string }[] };
      options.onPutEvents(Entries, (result.Entries ?? []).map((e) => e.EventId));
    }
    if (options.onTrailedCall && answer.status >= 200 && answer.status < 300) {
      const call = trailedCall(request, account, responseBody.toString('utf8'));
      if (call) options.onTrailedCall(call);
    }
    const responseHeaders = { ...answer.headers };
    if (method !== 'HEAD') responseHeaders['content-length'] = String(responseBody.length);
    delete responseHeaders['transfer-encoding'];
    res.writeHead(answer.status, responseHeaders);
    res.end(method === 'HEAD' ? undefined : responseBody);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendFault(res, { status: 502, code: 'BadGateway', message: String(error), json: true }, false));
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
    registerFunction: (name, fn) => {
      functions.set(name, fn);
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

/**
 * Lambda's Invoke: RequestResponse answers with the payload, or X-Amz-Function-Error with the
 * error as the payload, as Lambda does; an `Event` invocation is accepted at once (202), and the
 * registered function itself owns what follows, as Lambda's asynchronous queue, retries and
 * on-failure destination do.
 */
async function invokeFunction(res: ServerResponse, fn: LocalFunction | undefined, name: string, payload: string, asynchronous: boolean) {
  if (!fn) return sendFault(res, { status: 404, code: 'ResourceNotFoundException', message: `Function not found: ${name}`, json: true }, false);
  if (asynchronous) {
    let event: unknown;
    try {
      event = payload === '' ? {} : JSON.parse(payload);
    } catch {
      return sendFault(res, { status: 400, code: 'InvalidRequestContentException', message: 'Could not parse request body into json', json: true }, false);
    }
    void fn(event).catch(() => undefined);
    res.writeHead(202, { 'content-length': 0 });
    res.end();
    return;
  }
  let body: string;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  try {
    body = JSON.stringify(await fn(payload === '' ? {} : JSON.parse(payload)));
  } catch (error) {
    headers['x-amz-function-error'] = 'Unhandled';
    body = JSON.stringify({ errorType: error instanceof Error ? error.name : 'Error', errorMessage: error instanceof Error ? error.message : String(error) });
  }
  res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendFault(res: ServerResponse, fault: FaultResponse, head: boolean) {
  if (res.headersSent) return;
  if (fault.json) {
    const body = JSON.stringify({ __type: fault.code, message: fault.message });
    res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': fault.code, 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const error = `<Error>${fault.query ? '<Type>Sender</Type>' : ''}<Code>${fault.code}</Code><Message>${fault.message}</Message></Error>`;
  const body = `<?xml version="1.0" encoding="UTF-8"?>${fault.query ? `<ErrorResponse>${error}<RequestId>local</RequestId></ErrorResponse>` : error}`;
  res.writeHead(fault.status, { 'content-type': 'application/xml', ...(head ? {} : { 'content-length': Buffer.byteLength(body) }) });
  res.end(head ? undefined : body);
}
