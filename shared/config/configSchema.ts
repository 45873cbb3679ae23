/**
 * The shape of pipeline.config.json as zod/mini schemas, and the messages for a file that does
 * not have that shape. Field-level rules beyond the shape live in ruleChecks.ts.
 */
import * as z from 'zod/mini';
import { issueMessage } from './schemaIssues';

const languageFields = {
  languageCode: z.optional(z.string()),
  identifyLanguage: z.optional(z.boolean()),
  languageOptions: z.optional(z.array(z.string()).check(z.minLength(1, 'must list at least one language code'))),
};

export const outputSchema = z.strictObject({
  bucket: z.optional(z.string()),
  prefix: z.optional(z.string()),
});

const channelId = z.literal([0, 1]);

/** Call Analytics' options; ruleChecks.ts says which fields belong to which job type. */
const jobFields = {
  jobType: z.optional(z.enum(['transcription', 'callAnalytics', 'medical'])),
  channels: z.optional(z.strictObject({ agent: channelId, customer: channelId })),
  redaction: z.optional(
    z.strictObject({
      output: z.enum(['redacted', 'redacted_and_unredacted']),
      audio: z.optional(z.boolean()),
      piiEntityTypes: z.optional(z.array(z.string()).check(z.minLength(1, 'must list at least one type; omit it to redact all PII'))),
    }),
  ),
  specialty: z.optional(z.string()),
  type: z.optional(z.enum(['CONVERSATION', 'DICTATION'])),
};

const ruleSchema = z.strictObject({
  prefix: z.string().check(z.maxLength(1024, 'must be at most 1024 characters, the S3 key limit')),
  kmsKey: z.optional(z.string().check(z.minLength(1, 'must not be empty; omit it for SSE-S3'))),
  account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account ID'))),
  encryptionContext: z.optional(z.record(z.string(), z.string())),
  output: z.optional(outputSchema),
  ...languageFields,
  ...jobFields,
});

export const configSchema = z.strictObject({
  $comment: z.optional(z.string()),
  defaults: z.optional(z.strictObject(languageFields)),
  transcripts: z.optional(outputSchema),
  deferredExecution: z.optional(z.boolean()),
  rules: z.array(ruleSchema).check(z.minLength(1, 'must list at least one rule')),
});

export type RawRule = z.infer<typeof ruleSchema>;
export type RawLanguage = Pick<RawRule, 'languageCode' | 'identifyLanguage' | 'languageOptions'>;

/** One line per schema issue, naming the rule by index and prefix so the operator finds it. */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path;
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
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; see the config reference in README.md`;
  }
  return `${where}: ${issueMessage(issue)}`;
}
