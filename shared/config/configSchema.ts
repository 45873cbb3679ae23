/**
 * The shape of pipeline.config.json as valibot schemas, and the messages for a file that does
 * not have that shape. Field-level rules beyond the shape live in ruleChecks.ts.
 */
import * as v from 'valibot';
import { closedObject, isUnknownFieldsIssue, issueMessage, issuePath, type SchemaIssue } from './schemaIssues';

const languageFields = {
  languageCode: v.optional(v.string()),
  identifyLanguage: v.optional(v.boolean()),
  languageOptions: v.optional(v.pipe(v.array(v.string()), v.minLength(1, 'must list at least one language code'))),
};

const outputSchema = closedObject({
  bucket: v.optional(v.string()),
  prefix: v.optional(v.string()),
});

const channelId = v.picklist([0, 1]);

/** Call Analytics' and medical options; jobTypeChecks.ts says which fields belong to which job type. */
const jobFields = {
  jobType: v.optional(v.picklist(['transcription', 'callAnalytics', 'medical'])),
  channels: v.optional(closedObject({ agent: channelId, customer: channelId })),
  redaction: v.optional(
    closedObject({
      output: v.picklist(['redacted', 'redacted_and_unredacted']),
      audio: v.optional(v.boolean()),
      piiEntityTypes: v.optional(v.pipe(v.array(v.string()), v.minLength(1, 'must list at least one type; omit it to redact all PII'))),
    }),
  ),
  specialty: v.optional(v.string()),
  type: v.optional(v.picklist(['CONVERSATION', 'DICTATION'])),
};

const ruleSchema = closedObject({
  prefix: v.pipe(v.string(), v.maxLength(1024, 'must be at most 1024 characters, the S3 key limit')),
  kmsKey: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty; omit it for SSE-S3'))),
  account: v.optional(v.pipe(v.string(), v.regex(/^\d{12}$/, 'must be a 12-digit AWS account ID'))),
  encryptionContext: v.optional(v.record(v.string(), v.string())),
  output: v.optional(outputSchema),
  ...languageFields,
  ...jobFields,
});

export const configSchema = closedObject({
  $comment: v.optional(v.string()),
  defaults: v.optional(closedObject(languageFields)),
  transcripts: v.optional(outputSchema),
  deferredExecution: v.optional(v.boolean()),
  rules: v.pipe(v.array(ruleSchema), v.minLength(1, 'must list at least one rule')),
});

export type RawRule = v.InferOutput<typeof ruleSchema>;
export type RawLanguage = Pick<RawRule, 'languageCode' | 'identifyLanguage' | 'languageOptions'>;

/** One line per schema issue, naming the rule by index and prefix so the operator finds it. */
export function describeIssue(issue: SchemaIssue, raw: unknown): string {
  const path = issuePath(issue);
  let where = path.length === 0 ? 'config' : '';
  for (const [i, segment] of path.entries()) {
    if (typeof segment === 'number') {
      where += `[${segment}]`;
      if (path[i - 1] === 'rules') {
        const prefix = (raw as { rules?: { prefix?: unknown }[] }).rules?.[segment]?.prefix;
        if (typeof prefix === 'string') where += ` (prefix ${JSON.stringify(prefix)})`;
      }
    } else {
      where += `${where === '' ? '' : where.endsWith(')') ? ': ' : '.'}${String(segment)}`;
    }
  }
  const message = issueMessage(issue);
  return isUnknownFieldsIssue(issue) ? `${where}: ${message}; see the config reference in README.md` : `${where}: ${message}`;
}
