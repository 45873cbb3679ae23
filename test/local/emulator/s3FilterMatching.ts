/**
 * S3 matches a notification filter against the key as it appears in the event (form-URL-encoded,
 * see shared/stack/inputNotifications.ts), while moto compares the raw key. This translates a
 * filter written for S3 into the raw prefix moto needs for the same matches: the decoded value
 * when the filter is written as S3 encodes keys, and a prefix no key can have when it is not
 * (a raw `Call Recordings/` matches nothing in S3, so it must match nothing here either).
 */
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import { s3FilterValue } from '../../../shared/stack/inputNotifications';

/** U+FFFF is a noncharacter: no uploader's key starts with it. */
export const NEVER_MATCHES = '\uFFFF';

export function motoFilterValue(s3Value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(s3Value.replace(/\+/g, ' '));
  } catch {
    return NEVER_MATCHES;
  }
  return s3FilterValue(decoded) === s3Value ? decoded : NEVER_MATCHES;
}

/** The same configuration with every prefix and suffix filter translated for moto. */
export function forMoto(configuration: NotificationConfiguration): NotificationConfiguration {
  return {
    ...configuration,
    ...(configuration.QueueConfigurations && {
      QueueConfigurations: configuration.QueueConfigurations.map((queue) => ({
        ...queue,
        ...(queue.Filter?.Key?.FilterRules && {
          Filter: { Key: { FilterRules: queue.Filter.Key.FilterRules.map((rule) => ({ ...rule, Value: motoFilterValue(rule.Value ?? '') })) } },
        }),
      })),
    }),
  };
}
