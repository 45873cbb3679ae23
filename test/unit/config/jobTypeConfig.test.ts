import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import type { ValidationContext } from '../../../shared/config/rule';
import { configProblems } from '../../support/fixtures';

const ctx: ValidationContext = { region: 'us-east-1', inputBucket: 'in-bucket', transcriptBucket: 'out-bucket' };
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const config = (...rules: object[]) => ({ defaults: { languageCode: 'de-DE' }, rules });
const calls = { prefix: 'contact-centre/', jobType: 'callAnalytics', kmsKey: KEY, channels: { agent: 0, customer: 1 } };
const clinic = { prefix: 'clinic/', jobType: 'medical', kmsKey: KEY, type: 'DICTATION' };

const problemsOf = (raw: unknown, context: ValidationContext = ctx): string[] => configProblems(raw, context);

describe('jobType in the config', () => {
  it('defaults to transcription, and reads Call Analytics and medical options into the rule', () => {
    const { rules } = validatePipelineConfig(
      config(
        { prefix: 'plain/' },
        { ...calls, languageCode: 'en-US', redaction: { output: 'redacted_and_unredacted', audio: true, piiEntityTypes: ['NAME', 'CREDIT_DEBIT_NUMBER'] } },
        clinic,
      ),
      ctx,
    );
    expect(rules.map((rule) => rule.job)).toEqual([
      { jobType: 'transcription' },
      {
        jobType: 'callAnalytics',
        channels: { agent: 0, customer: 1 },
        redaction: { output: 'redacted_and_unredacted', audio: true, piiEntityTypes: ['NAME', 'CREDIT_DEBIT_NUMBER'] },
      },
      { jobType: 'medical', specialty: 'PRIMARYCARE', type: 'DICTATION' },
    ]);
    // A medical rule is en-US even where the defaults say otherwise; other rules take the defaults.
    expect(rules.map((rule) => rule.language)).toEqual([{ languageCode: 'de-DE' }, { languageCode: 'en-US' }, { languageCode: 'en-US' }]);
  });

  it('names the rule and the field for an encryption context on a Call Analytics rule', () => {
    expect(problemsOf(config({ ...calls, encryptionContext: { team: 'cc' } }))).toEqual([
      'rules[0] (prefix "contact-centre/"): encryptionContext cannot be used with jobType "callAnalytics": StartCallAnalyticsJob takes no KMSEncryptionContext; remove it (the key still applies)',
    ]);
  });

  it('names the rule and the field for a language other than en-US, and for language identification, on a medical rule', () => {
    expect(problemsOf(config({ ...clinic, languageCode: 'en-GB' }))).toEqual([
      'rules[0] (prefix "clinic/"): languageCode "en-GB" cannot be used with jobType "medical": Transcribe Medical transcribes en-US only',
    ]);
    expect(problemsOf(config({ ...clinic, identifyLanguage: true, languageOptions: ['en-US', 'es-US'] }))).toEqual([
      'rules[0] (prefix "clinic/"): identifyLanguage cannot be used with jobType "medical": Transcribe Medical has no language identification; remove it (medical rules are en-US)',
    ]);
  });

  it('names the rule for a job type that deferredExecution does not support', () => {
    expect(problemsOf({ ...config(clinic, calls), deferredExecution: true })).toEqual([
      'rules[0] (prefix "clinic/"): jobType "medical" does not support deferredExecution (StartMedicalTranscriptionJob has no job queue); set deferredExecution to false, or move this prefix to a transcription rule',
    ]);
  });

  it('names the rule and the field for an output location a Call Analytics or medical rule cannot use', () => {
    expect(problemsOf(config({ ...calls, output: { prefix: 'calls out/' } }))).toEqual([
      `rules[0] (prefix "contact-centre/"): output.prefix "calls out/" contains " ", which Transcribe's OutputKey rejects; use only letters, digits and - _ . ! * ' ( ) /`,
    ]);
    expect(problemsOf(config({ ...clinic, output: { prefix: 'notes' } }))).toEqual([
      'rules[0] (prefix "clinic/"): output.prefix "notes" must end with "/" so transcripts land in a folder',
    ]);
  });

  it('names each missing or misplaced option with the rule and the field', () => {
    expect(problemsOf(config({ prefix: 'cc/', jobType: 'callAnalytics' }))[0]).toMatch(/^rules\[0\] \(prefix "cc\/"\): jobType "callAnalytics" needs channels/);
    expect(problemsOf(config({ ...calls, channels: { agent: 1, customer: 1 } }))).toEqual([
      'rules[0] (prefix "contact-centre/"): channels.agent and channels.customer are both 1; give them different channels (0 and 1)',
    ]);
    expect(problemsOf(config({ prefix: 'm/', jobType: 'medical' }))[0]).toMatch(/^rules\[0\] \(prefix "m\/"\): jobType "medical" needs type: "CONVERSATION"/);
    expect(problemsOf(config({ prefix: 'p/', type: 'DICTATION' }))).toEqual([
      'rules[0] (prefix "p/"): type only applies to jobType "medical", but this rule\'s jobType is "transcription"; remove type or set jobType to "medical"',
    ]);
    expect(problemsOf(config({ ...clinic, redaction: { output: 'redacted' } }))).toEqual([
      'rules[0] (prefix "clinic/"): redaction only applies to jobType "callAnalytics", but this rule\'s jobType is "medical"; remove redaction or set jobType to "callAnalytics"',
    ]);
    expect(problemsOf(config({ ...calls, redaction: { output: 'redacted', piiEntityTypes: ['SHOE_SIZE'] } }))).toEqual([
      'rules[0] (prefix "contact-centre/"): redaction.piiEntityTypes[0] "SHOE_SIZE" is not a Transcribe PII type (e.g. "ALL", "NAME", "CREDIT_DEBIT_NUMBER")',
    ]);
    expect(problemsOf(config({ ...clinic, specialty: 'CARDIOLOGY' }))).toEqual([
      'rules[0] (prefix "clinic/"): specialty "CARDIOLOGY" is not one Transcribe Medical offers; use "PRIMARYCARE"',
    ]);
    expect(problemsOf(config({ ...calls, identifyLanguage: true }))).toEqual([
      'rules[0] (prefix "contact-centre/"): identifyLanguage on a Call Analytics rule needs languageOptions: Call Analytics identifies the language only among the options you list',
    ]);
  });

  it('names the field and the allowed values for an unknown job type, channel or medical type', () => {
    expect(problemsOf(config({ prefix: 'p/', jobType: 'scribe' }))).toEqual([
      'rules[0] (prefix "p/"): jobType: must be "transcription" or "callAnalytics" or "medical", not "scribe"',
    ]);
    expect(problemsOf(config({ ...calls, channels: { agent: 2, customer: 1 } }))).toEqual([
      'rules[0] (prefix "contact-centre/"): channels.agent: must be 0 or 1, not 2',
    ]);
    expect(problemsOf(config({ ...clinic, type: 'NOTES' }))).toEqual([
      'rules[0] (prefix "clinic/"): type: must be "CONVERSATION" or "DICTATION", not "NOTES"',
    ]);
  });
});
