import { describe, expect, it } from 'vitest';
import { pagesOperator, WHAT_TO_DO, whatToDo, type MismatchCause } from '../../../shared/verify/outcomeEvent';

const CAUSES: MismatchCause[] = ['wrong-encryption', 'missing-output', 'tags-altered', 'alias-retargeted', 'rule-changed', 'no-rule'];

describe('whatToDo', () => {
  it('is null for a verified transcript, which pages nobody', () => {
    expect(whatToDo({ outcome: 'verified', cause: null })).toBeNull();
  });

  it('tells the person a failed job pages what to fix, from failureReason', () => {
    expect(whatToDo({ outcome: 'failed', cause: null })).toBe(
      'Transcribe failed the job and wrote no transcript: fix what failureReason names (the media, the key, its grants, the quota), then upload the media again (where the input bucket keeps no versions, an unchanged file keeps its job name: delete the failed job first)',
    );
  });

  it.each(CAUSES.filter((cause) => pagesOperator({ outcome: 'mismatch', cause })))('names, for a paging %s mismatch, the CloudTrail calls to look for first', (cause) => {
    const said = whatToDo({ outcome: 'mismatch', cause });
    expect(said).toBe(WHAT_TO_DO[cause]);
    expect(said).toMatch(/\b[Ff]ind in CloudTrail who .* \((s3|transcribe|kms):[A-Za-z*]+/);
  });

  it('says a rule changed by a planned deploy needs nothing, and that it does not page', () => {
    expect(pagesOperator({ outcome: 'mismatch', cause: 'rule-changed' })).toBe(false);
    expect(whatToDo({ outcome: 'mismatch', cause: 'rule-changed' })).toBe('Nothing, if the config deploy that changed the rule after the job started was planned (this verdict does not page)');
  });

  it('treats every transcript a person may not have meant to exist as exposed until they know why', () => {
    const exposed = CAUSES.filter((cause) => WHAT_TO_DO[cause].includes('exposed'));
    expect(exposed).toEqual(['wrong-encryption', 'tags-altered', 'no-rule']);
  });
});
