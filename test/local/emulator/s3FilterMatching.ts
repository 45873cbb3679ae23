/**
 * S3 matches a notification filter against the key as it appears in the event (form-URL-encoded,
 * see encodeS3EventKey), while moto compares the raw key. This translates a filter written for
 * S3 into the raw prefix moto needs for the same matches: the decoded value when the filter is
 * written as S3 encodes keys, and a prefix no key can have when it is not (a raw
 * `Call Recordings/` matches nothing in S3, so it must match nothing here either). The gateway
 * translates back when the configuration is read, so a reader sees what S3 would return.
 */
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import { encodeS3EventKey } from '../../../shared/aws/s3Location';

/** U+10FFFF is a noncharacter (no uploader's key starts with it) that XML still allows, so moto can store it. */
export const NEVER_MATCHES = '\u{10FFFF}';

/** The filter for moto; a filter S3 would never match keeps its text behind NEVER_MATCHES, so it can be read back. */
export function motoFilterValue(s3Value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(s3Value.replace(/\+/g, ' '));
  } catch {
    return `${NEVER_MATCHES}${s3Value}`;
  }
  return encodeS3EventKey(decoded) === s3Value ? decoded : `${NEVER_MATCHES}${s3Value}`;
}

/** The inverse of motoFilterValue: the filter as it was written for S3. */
export function s3FilterFromMoto(motoValue: string): string {
  return motoValue.startsWith(NEVER_MATCHES) ? motoValue.slice(NEVER_MATCHES.length) : encodeS3EventKey(motoValue);
}

const XML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
const unescapeXml = (text: string) => text.replace(/&(amp|lt|gt|quot|apos);/g, (entity) => XML_ENTITIES[entity] ?? entity);
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The same translation on the wire: PutBucketNotificationConfiguration bodies on their way to
 * moto, and GetBucketNotificationConfiguration answers on their way back. `<Value>` appears in a
 * notification configuration only inside a FilterRule.
 */
export function translateNotificationXml(xml: string, direction: 'to-moto' | 'from-moto'): string {
  const translate = direction === 'to-moto' ? motoFilterValue : s3FilterFromMoto;
  return xml.replace(/<Value>([^<]*)<\/Value>/g, (_, value: string) => `<Value>${escapeXml(translate(unescapeXml(value)))}</Value>`);
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
