/**
 * EventBridge rule matching and delivery for the local mode. moto accepts PutEvents quickly,
 * but delivering to an SQS target costs it about 90 ms per event (it re-parses the target's
 * JSONPath templates every time), which would cap a local run at a few jobs per second. So
 * events still go to moto's PutEvents, and the rules this stack defines are matched here, with
 * the envelope EventBridge delivers.
 */
import { CLOUDTRAIL_API_CALL } from '../../../shared/verify/completionEvent';
import type { TrailedCall } from '../emulator/gateway';

export type EventPattern = Record<string, unknown>;

export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export function envelope(
  entry: { Source?: string; DetailType?: string; Detail?: string; Resources?: string[] },
  id: string,
  account: string,
  region: string,
  time = new Date(),
): EventEnvelope {
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType ?? '',
    source: entry.Source ?? '',
    account,
    time: eventTime(time),
    region,
    resources: entry.Resources ?? [],
    detail: JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>,
  };
}

/** A time as EventBridge writes it in an event: to the second. */
function eventTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A management call as EventBridge delivers it on the default bus from a CloudTrail trail. The
 * local mode has one identity, so every call is made by the same local user.
 */
export function trailEnvelope(call: TrailedCall, id: string, region: string, time = new Date()): EventEnvelope {
  const at = eventTime(time);
  return {
    version: '0',
    id,
    'detail-type': CLOUDTRAIL_API_CALL,
    source: `aws.${call.eventSource.split('.')[0]}`,
    account: call.account,
    time: at,
    region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${call.account}:user/local` },
      eventTime: at,
      eventSource: call.eventSource,
      eventName: call.eventName,
      awsRegion: region,
      // The caller's address, as a trail records it: a deploy's calls come from CloudFormation's.
      sourceIPAddress: '127.0.0.1',
      requestParameters: call.requestParameters,
      responseElements: call.responseElements ?? null,
      recipientAccountId: call.account,
      eventCategory: 'Management',
    },
  };
}

/**
 * The subset of EventBridge's pattern language this stack uses: nested objects, lists of
 * literal values, `{ prefix }`, `{ suffix }`, `{ wildcard }`, `{ anything-but }` (of values or a prefix), `{ exists }` and `$or`. Anything else in a pattern is an
 * error rather than a silent match.
 */
export function matchesPattern(pattern: EventPattern, event: object): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    if (field === '$or') {
      if (!Array.isArray(expected)) throw new Error(`unsupported event pattern: $or must list patterns`);
      return expected.some((alternative) => matchesPattern(alternative as EventPattern, event));
    }
    const actual = (event as Record<string, unknown>)[field];
    if (Array.isArray(expected)) return expected.some((candidate) => matchesValue(candidate, actual));
    if (typeof expected === 'object' && expected !== null) {
      return typeof actual === 'object' && actual !== null && matchesPattern(expected as EventPattern, actual);
    }
    throw new Error(`unsupported event pattern at ${field}: ${JSON.stringify(expected)}`);
  });
}

function matchesValue(candidate: unknown, actual: unknown): boolean {
  if (candidate !== null && typeof candidate === 'object' && 'anything-but' in candidate) {
    const excluded = (candidate as { 'anything-but': unknown })['anything-but'];
    if (excluded !== null && typeof excluded === 'object' && !Array.isArray(excluded)) {
      const { prefix, ...more } = excluded as { prefix?: unknown };
      if (typeof prefix !== 'string' || Object.keys(more).length > 0) throw new Error(`unsupported event pattern filter ${JSON.stringify(candidate)}`);
      return typeof actual === 'string' && !actual.startsWith(prefix);
    }
    const list = Array.isArray(excluded) ? excluded : [excluded];
    return actual !== undefined && !list.includes(actual);
  }
  if (candidate !== null && typeof candidate === 'object' && 'exists' in candidate) {
    return (candidate as { exists: unknown }).exists === (actual !== undefined);
  }
  // An array in the event matches when one of its elements does (CloudWatch's DeleteAlarms names its alarms in one).
  if (Array.isArray(actual)) return actual.some((element) => matchesValue(candidate, element));
  if (candidate !== null && typeof candidate === 'object') {
    const [filter, value, ...more] = Object.entries(candidate).flat();
    if (typeof value !== 'string' || more.length > 0 || !(filter === 'prefix' || filter === 'suffix' || filter === 'wildcard')) {
      throw new Error(`unsupported event pattern filter ${JSON.stringify(candidate)}`);
    }
    if (typeof actual !== 'string') return false;
    if (filter === 'prefix') return actual.startsWith(value);
    if (filter === 'suffix') return actual.endsWith(value);
    // `*` matches any run of characters, as in EventBridge's wildcard filter; nothing else is special.
    return new RegExp(`^${value.split('*').map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&')).join('.*')}$`, 's').test(actual);
  }
  return actual === candidate;
}
