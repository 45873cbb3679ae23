import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { alarmResources, CHANGE_PAGE_WHAT_TO_DO, changePageInputs } from '../../../shared/stack/alarmResources';
import { alertingChangePattern, completionEventPattern, dataExposurePattern, jobDeletionPattern, keyLossPattern, queueTriggerPattern, trustChangePattern, verifierChangePattern } from '../../../shared/stack/eventPatterns';
import { parseCompletionEvent } from '../../../shared/verify/completionEvent';
import { matchesPattern, trailEnvelope } from '../../local/runtime/eventBus';
import { queueNotifications } from '../../../shared/stack/inputNotifications';
import { notificationPrefixes, unicodeSpellings } from '../../../shared/config/notificationPrefixes';
import { kmsStatements } from '../../../shared/stack/kmsStatements';
import { alertingNames, createdBucketName, roleName, stackParamProblems, stackRules } from '../../../shared/stack/stackNames';

describe('notificationPrefixes', () => {
  it('drops prefixes already covered by a shorter one', () => {
    expect(notificationPrefixes([{ prefix: 'partners/acme/' }, { prefix: 'partners/' }, { prefix: 'calls/' }, { prefix: 'calls/eu/x/' }])).toEqual([
      'calls/',
      'partners/',
    ]);
  });

  it('keeps prefixes that only share characters', () => {
    expect(notificationPrefixes([{ prefix: 'a/' }, { prefix: 'ab/' }])).toEqual(['a/', 'ab/']);
  });

  it('collapses to one whole-bucket notification when a rule has an empty prefix', () => {
    expect(notificationPrefixes([{ prefix: 'a/' }, { prefix: '' }, { prefix: 'b/' }])).toEqual(['']);
    expect(queueNotifications([{ prefix: '' }], 'arn')).toEqual([{ Event: 's3:ObjectCreated:*', Queue: 'arn' }]);
  });

  it('names a prefix with accented letters in both Unicode spellings, composed (NFC) and decomposed (NFD), still without overlaps, so S3 notifies and the start role may read either', () => {
    const nfd = 'U\u0308berweisung/';
    expect(notificationPrefixes([{ prefix: 'Überweisung/' }, { prefix: 'calls/' }])).toEqual(['Überweisung/', 'calls/', nfd].sort());
    expect(notificationPrefixes([{ prefix: nfd }])).toEqual([nfd, 'Überweisung/'].sort());
    // A rule whose prefix is a shorter spelling of the other's start covers it: "U" covers "U\u0308...".
    expect(notificationPrefixes([{ prefix: 'U' }, { prefix: 'Überweisung/' }])).toEqual(['U', 'Überweisung/']);
    expect(notificationPrefixes([{ prefix: 'ascii/' }, { prefix: '日本/' }])).toEqual(['ascii/', '日本/']);
    expect(queueNotifications([{ prefix: 'Überweisung/' }], 'arn').map((n) => n.Filter?.S3Key.Rules[0]?.Value).sort()).toEqual(['%C3%9Cberweisung/', 'U%CC%88berweisung/']);
  });

  it('spells a prefix folder by folder, so a key a sync tool assembles from a composed and a decomposed folder name is notified too', () => {
    const spellings = ['Größe/Übung/', 'Größe/U\u0308bung/', 'Gro\u0308ße/Übung/', 'Gro\u0308ße/U\u0308bung/'];
    expect(unicodeSpellings('Größe/Übung/').sort()).toEqual(spellings.sort());
    expect(unicodeSpellings('Gro\u0308ße/U\u0308bung/').sort()).toEqual(spellings.sort());
    expect(unicodeSpellings('calls/2026/')).toEqual(['calls/2026/']);
    expect(unicodeSpellings('Über')).toEqual(['Über', 'U\u0308ber']);
    // Under a parent rule, the parent's notifications already see every spelling below it.
    expect(notificationPrefixes([{ prefix: 'Größe/' }, { prefix: 'Größe/Übung/' }]).sort()).toEqual(['Größe/', 'Gro\u0308ße/'].sort());
    expect(notificationPrefixes([{ prefix: 'Größe/Übung/' }])).toHaveLength(4);
  });

  it('never yields two overlapping prefixes', () => {
    const prefixes = notificationPrefixes(['x/', 'x/y/', 'x/y/z/', 'xy/', 'w/', 'w'].map((prefix) => ({ prefix })));
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(b.startsWith(a)).toBe(false);
    expect(prefixes).toEqual(['w', 'x/', 'xy/']);
  });
});

describe('kmsStatements', () => {
  const config = validatePipelineConfig(
    {
      defaults: { languageCode: 'en-US' },
      rules: [
        { prefix: 'a/', kmsKey: '1234abcd-12ab-34cd-56ef-1234567890ab' },
        { prefix: 'b/', kmsKey: 'arn:aws:kms:us-east-1:222233334444:key/0987dcba-09fe-87dc-65ba-ab0987654321', account: '222233334444' },
        { prefix: 'c/', kmsKey: 'alias/legal' },
        { prefix: 'd/', kmsKey: 'arn:aws:kms:us-east-1:222233334444:alias/acme' },
        { prefix: 'e/', kmsKey: 'alias/legal' },
        { prefix: 'f/' },
      ],
    },
    { region: 'us-east-1' },
  );

  it('names key ARNs as resources and matches aliases per account with kms:ResourceAliases', () => {
    expect(kmsStatements(config, ['kms:Encrypt'])).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt'],
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
          'arn:aws:kms:us-east-1:222233334444:key/0987dcba-09fe-87dc-65ba-ab0987654321',
        ],
      },
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
        Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/legal'] } },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:222233334444:key/*' },
        Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/acme'] } },
      },
    ]);
  });

  it('grants nothing when no rule has a key', () => {
    expect(kmsStatements(validatePipelineConfig({ rules: [{ prefix: '', languageCode: 'en-US' }] }, { region: 'us-east-1' }), ['kms:Encrypt'])).toEqual([]);
  });
});

describe('stack names and patterns', () => {
  it('limits the completion rule to this stage’s job names', () => {
    expect(completionEventPattern('tkp.dev.')).toEqual({
      source: ['aws.transcribe'],
      'detail-type': ['Transcribe Job State Change'],
      detail: { TranscriptionJobName: [{ prefix: 'tkp.dev.' }], TranscriptionJobStatus: ['COMPLETED', 'FAILED'] },
    });
  });

  it('refuses a stage whose bucket name would be too long, saying how long a stage may be', () => {
    expect(createdBucketName({ stage: 'dev', region: 'us-east-1' }, 'input')).toBe('tkp-dev-input-${AWS::AccountId}-us-east-1');
    expect(() => createdBucketName({ stage: 'a-very-long-stage-name-for-tests', region: 'ap-southeast-2' }, 'transcripts')).toThrow(
      'stage "a-very-long-stage-name-for-tests" would make the transcripts bucket name 76 characters long, over S3\'s 63; ' +
        'use a stage name of at most 19 characters or pass an existing bucket with --param="transcriptBucket=NAME"',
    );
    // At that length it fits.
    expect(createdBucketName({ stage: 'a'.repeat(19), region: 'ap-southeast-2' }, 'transcripts')).toHaveLength(63 - 12 + '${AWS::AccountId}'.length);
  });

  it('accepts good --param values and names each bad one with what to give instead', () => {
    expect(
      stackParamProblems({ inputBucket: 'acme-recordings', transcriptBucket: 'acme.transcripts-2', alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call' }),
    ).toEqual([]);
    expect(stackParamProblems({ alarmEmail: 'oncall@example.com' })).toEqual([]);
    expect(stackParamProblems({ inputBucket: 's3://acme-recordings/calls/', transcriptBucket: 'arn:aws:s3:::acme-transcripts' })).toEqual([
      '--param="inputBucket=s3://acme-recordings/calls/" must be the bucket\'s name alone: --param="inputBucket=acme-recordings"',
      '--param="transcriptBucket=arn:aws:s3:::acme-transcripts" must be the bucket\'s name alone: --param="transcriptBucket=acme-transcripts"',
    ]);
    expect(stackParamProblems({ inputBucket: 'Acme_Recordings', alarmTopicArn: 'on-call', alarmEmail: 'on call' })).toEqual([
      '--param="inputBucket=Acme_Recordings" is not a valid S3 bucket name (3 to 63 lower-case letters, digits, . and -, starting and ending with a letter or digit)',
      '--param="alarmTopicArn=on-call" is not an SNS topic ARN; give one like arn:aws:sns:REGION:ACCOUNT:NAME',
      '--param="alarmEmail=on call" is not an email address',
      expect.stringContaining('the address would get nothing'),
    ]);
  });

  it('refuses an alarm email beside an alarm topic of the operator\'s, which would silently drop the address', () => {
    expect(stackParamProblems({ alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:on-call', alarmEmail: 'oncall@example.com' })).toEqual([
      '--param="alarmEmail=..." subscribes to the alarm topic the stack creates, and --param="alarmTopicArn=..." replaces that topic, so the address would get nothing; ' +
        'subscribe the address to your own topic and drop alarmEmail, or drop alarmTopicArn',
    ]);
  });

  it('refuses a stage that would put upper-case letters or other characters in a bucket name, suggesting one that works', () => {
    expect(() => createdBucketName({ stage: 'Dev', region: 'us-east-1' }, 'input')).toThrow(
      'stage "Dev" would make an invalid input bucket name (S3 bucket names take lower-case letters, digits and - only); ' +
        'use a stage name of those characters, e.g. "dev", or pass an existing bucket with --param="inputBucket=NAME"',
    );
  });
});

describe('the rule that sends the verifier every deletion of this stack\'s jobs', () => {
  const deleted = (eventName: string, requestParameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const event = trailEnvelope({ eventSource: 'transcribe.amazonaws.com', eventName, account: '123456789012', requestParameters }, 'c0ffee00-0000-4000-8000-000000000002', 'us-east-1');
    return { ...event, detail: { ...event.detail, userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/ops/alice' }, ...extra } };
  };
  const pattern = jobDeletionPattern('tkp.dev.') as Record<string, unknown>;

  it('matches a successful deletion of a job of each type under this stage\'s prefix, and the verifier reads its type, name and deleter', () => {
    const cases = [
      ['DeleteTranscriptionJob', 'transcriptionJobName', 'transcription'],
      ['DeleteCallAnalyticsJob', 'callAnalyticsJobName', 'callAnalytics'],
      ['DeleteMedicalTranscriptionJob', 'medicalTranscriptionJobName', 'medical'],
    ] as const;
    for (const [eventName, field, jobType] of cases) {
      const event = deleted(eventName, { [field]: 'tkp.dev.abc123' });
      expect(matchesPattern(pattern, event)).toBe(true);
      expect(parseCompletionEvent(event)).toEqual({
        jobType,
        jobName: 'tkp.dev.abc123',
        deletion: { by: 'arn:aws:sts::123456789012:assumed-role/ops/alice', at: (event.detail as { eventTime?: string }).eventTime },
      });
    }
  });

  it('ignores another stage\'s jobs, a failed deletion, another call and a job name in another call\'s field', () => {
    expect(matchesPattern(pattern, deleted('DeleteTranscriptionJob', { transcriptionJobName: 'tkp.prod.abc123' }))).toBe(false);
    expect(matchesPattern(pattern, deleted('DeleteTranscriptionJob', { transcriptionJobName: 'tkp.dev.abc123' }, { errorCode: 'AccessDeniedException' }))).toBe(false);
    expect(matchesPattern(pattern, deleted('GetTranscriptionJob', { transcriptionJobName: 'tkp.dev.abc123' }))).toBe(false);
    expect(matchesPattern(pattern, deleted('DeleteMedicalTranscriptionJob', { transcriptionJobName: 'tkp.dev.abc123' }))).toBe(false);
  });

  it('refuses at the edge a deletion record without a job name, naming the field', () => {
    expect(() => parseCompletionEvent(deleted('DeleteCallAnalyticsJob', { callAnalyticsJobName: '' }))).toThrow(
      /nor CloudTrail's record of a Delete\*Job call: detail\.requestParameters\.callAnalyticsJobName must be a Transcribe job name/,
    );
  });
});

describe('the rule that pages when what verdicts rest on changes without a deploy', () => {
  const config = validatePipelineConfig(
    {
      rules: [
        { prefix: 'legal/', kmsKey: 'alias/legal-transcripts', languageCode: 'en-US' },
        { prefix: 'acme/', kmsKey: 'arn:aws:kms:us-east-1:222233334444:alias/acme', account: '222233334444', languageCode: 'en-US' },
        { prefix: 'hr/', kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321', languageCode: 'en-US' },
        { prefix: 'calls/', kmsKey: '1234abcd-12ab-34cd-56ef-1234567890ab', languageCode: 'en-US' },
        { prefix: 'public/', languageCode: 'en-US' },
        { prefix: 'archive/', languageCode: 'en-US', output: { bucket: 'acme-archive', prefix: 'transcripts/' } },
      ],
    },
    { region: 'us-east-1' },
  );
  const where = { transcriptBucket: 'tkp-transcripts', outcomeBus: ['tkp-outcomes', 'arn:aws:events:us-east-1:123456789012:event-bus/tkp-outcomes'] };
  // Forms in which a caller may name the verify function (functionNameForms matches each).
  const verifierRoles = ['arn:aws:iam::123456789012:role/tkp-dev-us-east-1-verify', 'arn:aws:iam::123456789012:role/tkp-dev-us-east-1-sweep'];
  const namings = [
    'tkp-dev-verify',
    'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-verify',
    '123456789012:function:tkp-dev-verify',
    'tkp-dev-verify:live',
    'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-verify:$LATEST',
  ];
  /** A management call as EventBridge delivers it from a CloudTrail trail. */
  const apiCall = (eventSource: 'kms.amazonaws.com' | 's3.amazonaws.com' | 'events.amazonaws.com', eventName: string, requestParameters: Record<string, unknown>, account = '123456789012') =>
    trailEnvelope({ eventSource, eventName, account, requestParameters }, 'c0ffee00-0000-4000-8000-000000000001', 'us-east-1');
  const alias = (eventName: string, aliasName: string, account?: string) =>
    apiCall('kms.amazonaws.com', eventName, { aliasName, targetKeyId: '99999999-9999-4999-8999-999999999999' }, account);
  const bucketDefault = (eventName: string, bucketName: string) =>
    apiCall('s3.amazonaws.com', eventName, { bucketName, Host: `${bucketName}.s3.amazonaws.com`, encryption: '' });

  it('matches a retarget of an alias a rule names, in the account the rule names, and nothing else of KMS', () => {
    const pattern = trustChangePattern(config, where) as Record<string, unknown>;
    for (const name of ['UpdateAlias', 'DeleteAlias', 'CreateAlias']) expect(matchesPattern(pattern, alias(name, 'alias/legal-transcripts'))).toBe(true);
    expect(matchesPattern(pattern, alias('UpdateAlias', 'alias/acme', '222233334444'))).toBe(true);
    // The same name in another account is another alias.
    expect(matchesPattern(pattern, alias('UpdateAlias', 'alias/acme', '123456789012'))).toBe(false);
    expect(matchesPattern(pattern, alias('UpdateAlias', 'alias/someone-elses'))).toBe(false);
    expect(matchesPattern(pattern, apiCall('kms.amazonaws.com', 'DisableKey', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }))).toBe(false);
  });

  it('matches a change to the default encryption of every bucket a keyless rule writes to, and nothing else of S3', () => {
    const pattern = trustChangePattern(config, where) as Record<string, unknown>;
    for (const bucket of ['tkp-transcripts', 'acme-archive']) {
      expect(matchesPattern(pattern, bucketDefault('PutBucketEncryption', bucket))).toBe(true);
      expect(matchesPattern(pattern, bucketDefault('DeleteBucketEncryption', bucket))).toBe(true);
      expect(matchesPattern(pattern, bucketDefault('PutBucketAcl', bucket))).toBe(false);
    }
    expect(matchesPattern(pattern, bucketDefault('PutBucketEncryption', 'tkp-input'))).toBe(false);
  });

  it('matches a change to the outcome bus’s policy, named by name or ARN, and no other bus’s', () => {
    const pattern = trustChangePattern(config, where) as Record<string, unknown>;
    for (const eventBusName of where.outcomeBus) {
      for (const name of ['PutPermission', 'RemovePermission']) expect(matchesPattern(pattern, apiCall('events.amazonaws.com', name, { eventBusName, statementId: 'anyone' }))).toBe(true);
    }
    expect(matchesPattern(pattern, apiCall('events.amazonaws.com', 'PutPermission', { eventBusName: 'someone-elses-bus' }))).toBe(false);
    expect(matchesPattern(pattern, apiCall('events.amazonaws.com', 'PutRule', { eventBusName: 'tkp-outcomes', name: 'x' }))).toBe(false);
  });

  /** The input bucket and the session its notifications function writes them with in a deploy. */
  const INTAKE = { inputBucket: 'tkp-dev-input', notificationsSession: 'arn:aws:sts::123456789012:assumed-role/tkp-dev-us-east-1-notifications/' };

  /** CloudTrail's record of a call as EventBridge delivers it, made from an address (a deploy's calls come from CloudFormation's). */
  const call = (eventSource: string, eventName: string, requestParameters: Record<string, unknown>, sourceIPAddress = '203.0.113.9') => {
    const event = trailEnvelope({ eventSource: eventSource as never, eventName, account: '123456789012', requestParameters }, 'c0ffee00-0000-4000-8000-000000000004', 'us-east-1');
    return { ...event, detail: { ...event.detail, sourceIPAddress } };
  };

  it('matches a function\'s code, configuration or invoke config changed outside a deploy, however the function is named, and not a deploy\'s change or another stack\'s function', () => {
    const pattern = verifierChangePattern({ service: 'tkp', stage: 'dev', region: 'us-east-1' }, INTAKE) as Record<string, unknown>;
    const lambdaCall = (eventName: string, functionName: string, sourceIPAddress?: string) => call('lambda.amazonaws.com', eventName, { functionName }, sourceIPAddress);
    // By name, ARN or partial ARN, with or without a version or alias: each is how Lambda may be told which function.
    for (const name of namings) {
      expect(matchesPattern(pattern, lambdaCall('UpdateFunctionConfiguration20150331v2', name))).toBe(true);
      expect(matchesPattern(pattern, lambdaCall('UpdateFunctionCode20150331v2', name))).toBe(true);
      // Where its failures go: without the on-failure destination, a failed verification is dropped.
      for (const eventName of ['PutFunctionEventInvokeConfig', 'UpdateFunctionEventInvokeConfig', 'DeleteFunctionEventInvokeConfig']) expect(matchesPattern(pattern, lambdaCall(eventName, name))).toBe(true);
      // The same change made by a stack update is a deploy's.
      expect(matchesPattern(pattern, lambdaCall('UpdateFunctionCode20150331v2', name, 'cloudformation.amazonaws.com'))).toBe(false);
    }
    // Every function of the stack: the start and preflight functions run with the start role, which may write transcripts.
    for (const name of ['tkp-dev-start', 'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-preflight', '123456789012:function:tkp-dev-bucketNotifications:live']) {
      expect(matchesPattern(pattern, lambdaCall('UpdateFunctionCode20150331v2', name)), name).toBe(true);
    }
    for (const other of ['tkp-devx-verify', 'tkp-dev2-start', '123456789012:function:tkp-prod-verify', 'arn:aws:lambda:us-east-1:123456789012:function:tkp-devverify:1', 'xtkp-dev-verify']) {
      expect(matchesPattern(pattern, lambdaCall('UpdateFunctionConfiguration20150331v2', other)), other).toBe(false);
    }
    expect(matchesPattern(pattern, lambdaCall('GetFunction20150331v2', 'tkp-dev-verify'))).toBe(false);
  });

  it('matches a function stopped outside a deploy: a reserved concurrency set, or its trigger turned off or removed, the trigger known by the function Lambda\'s response names', () => {
    const pattern = verifierChangePattern({ service: 'tkp', stage: 'dev', region: 'us-east-1' }, INTAKE) as Record<string, unknown>;
    for (const name of namings) {
      expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'PutFunctionConcurrency20171031', { functionName: name, reservedConcurrentExecutions: 0 }))).toBe(true);
    }
    expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'PutFunctionConcurrency20171031', { functionName: 'tkp-prod-verify', reservedConcurrentExecutions: 0 }))).toBe(false);
    // Deleted, or EventBridge's permission to invoke it removed: loud through the DLQ, but only the page says who.
    for (const name of namings) {
      expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'DeleteFunction20150331', { functionName: name }))).toBe(true);
      expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'RemovePermission20150331v2', { functionName: name, statementId: 'verify-rule-1' }))).toBe(true);
    }
    expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'RemovePermission20150331v2', { functionName: 'someone-elses', statementId: 'x' }))).toBe(false);
    expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'AddPermission20150331v2', { functionName: 'tkp-dev-verify', statementId: 'x' }))).toBe(false);
    expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'PutFunctionConcurrency20171031', { functionName: 'tkp-dev-verify' }, 'cloudformation.amazonaws.com'))).toBe(false);
    // A trigger's changes are QueueTriggersRule's alone (below), so that one change is one page.
    const disabled = call('lambda.amazonaws.com', 'UpdateEventSourceMapping20150331', { uUID: 'x', enabled: false });
    const startTrigger = { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-start', eventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:tkp-dev-start' };
    expect(matchesPattern(pattern, { ...disabled, detail: { ...disabled.detail, responseElements: startTrigger } })).toBe(false);
  });

  it('matches a trigger on one of the stack\'s queues created, changed or deleted outside a deploy, whichever function it runs, and not one on another queue or a deploy\'s', () => {
    const queues = ['tkp-dev-start', 'tkp-dev-start-dlq', 'tkp-dev-verify-dlq'].map((name) => `arn:aws:sqs:us-east-1:123456789012:${name}`);
    const pattern = queueTriggerPattern(queues) as Record<string, unknown>;
    const mappingId = '6d9bce8e-836b-442c-8070-74e77903c815';
    /** A creation as CloudTrail records it: the request names the queue and the function, the response (none when refused) the mapping. */
    const created = (eventSourceArn: string, functionArn: string | undefined, sourceIPAddress?: string) => {
      const event = call('lambda.amazonaws.com', 'CreateEventSourceMapping20150331', { functionName: 'team-x-archiver', eventSourceArn, batchSize: 10 }, sourceIPAddress);
      return functionArn ? { ...event, detail: { ...event.detail, responseElements: { uUID: mappingId, functionArn, eventSourceArn, state: 'Creating' } } } : event;
    };
    /** A change or removal: the request names the mapping by its UUID alone, the response its function and queue. */
    const changed = (eventName: string, eventSourceArn: string, functionArn: string, sourceIPAddress?: string) => {
      const event = call('lambda.amazonaws.com', eventName, { uUID: mappingId, enabled: false }, sourceIPAddress);
      return { ...event, detail: { ...event.detail, responseElements: { uUID: mappingId, functionArn, eventSourceArn, state: 'Disabling' } } };
    };
    const archiver = 'arn:aws:lambda:us-east-1:123456789012:function:team-x-archiver';
    const start = 'arn:aws:lambda:us-east-1:123456789012:function:tkp-dev-start';
    for (const queue of queues) {
      // Another function reading the uploads or the dead letters, made or refused: the request names the queue.
      expect(matchesPattern(pattern, created(queue, archiver)), queue).toBe(true);
      expect(matchesPattern(pattern, created(queue, undefined)), `${queue}, refused`).toBe(true);
      expect(matchesPattern(pattern, created(queue, archiver, 'cloudformation.amazonaws.com')), `${queue}, by a deploy`).toBe(false);
    }
    // The start function's own trigger turned off or removed, on the function, an alias or another's: uploads wait an hour for StartQueueAgeAlarm.
    for (const eventName of ['UpdateEventSourceMapping20150331', 'DeleteEventSourceMapping20150331']) {
      for (const functionArn of [start, `${start}:live`, archiver]) expect(matchesPattern(pattern, changed(eventName, queues[0]!, functionArn)), `${eventName} of ${functionArn}`).toBe(true);
      expect(matchesPattern(pattern, changed(eventName, queues[2]!, archiver)), `${eventName} on the verify DLQ`).toBe(true);
      expect(matchesPattern(pattern, changed(eventName, queues[0]!, start, 'cloudformation.amazonaws.com')), `${eventName} by a deploy`).toBe(false);
      expect(matchesPattern(pattern, changed(eventName, 'arn:aws:sqs:us-east-1:123456789012:tkp-prod-start', start)), `${eventName} on another stage's queue`).toBe(false);
      // A refused change has no response, and changed nothing.
      expect(matchesPattern(pattern, call('lambda.amazonaws.com', eventName, { uUID: mappingId, enabled: false })), `${eventName}, refused`).toBe(false);
    }
    expect(matchesPattern(pattern, created('arn:aws:sqs:us-east-1:123456789012:tkp-dev-start-other', archiver))).toBe(false);
    expect(matchesPattern(pattern, created('arn:aws:kinesis:us-east-1:123456789012:stream/tkp-dev-start', archiver))).toBe(false);
    expect(matchesPattern(pattern, call('lambda.amazonaws.com', 'ListEventSourceMappings20150331', { eventSourceArn: queues[0] }))).toBe(false);
  });

  it('matches any key of the account disabled, scheduled for deletion or its imported material deleted, by whomever, refused or not, or its policy rewritten outside a deploy, and not a key enabled, its deletion cancelled or a key read', () => {
    const pattern = keyLossPattern() as Record<string, unknown>;
    const arn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    // As KMS's CloudTrail entries record them: the key as the caller named it, and its ARN in the answer.
    const scheduled = call('kms.amazonaws.com', 'ScheduleKeyDeletion', { pendingWindowInDays: 7, keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    const withAnswer = { ...scheduled, detail: { ...scheduled.detail, responseElements: { keyId: arn, keyState: 'PendingDeletion', deletionDate: 'Dec 7, 2026 19:00:00 PM' } } };
    expect(matchesPattern(pattern, withAnswer)).toBe(true);
    expect(matchesPattern(pattern, call('kms.amazonaws.com', 'DisableKey', { keyId: arn }))).toBe(true);
    // A key whose material was imported is unusable once that material is deleted, until it is imported again.
    expect(matchesPattern(pattern, call('kms.amazonaws.com', 'DeleteImportedKeyMaterial', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', keyMaterialId: 'a'.repeat(64) }))).toBe(true);
    // A deploy of another stack can delete a key a rule names: CloudFormation's calls page too.
    expect(matchesPattern(pattern, call('kms.amazonaws.com', 'ScheduleKeyDeletion', { keyId: arn, pendingWindowInDays: 30 }, 'cloudformation.amazonaws.com'))).toBe(true);
    const refused = call('kms.amazonaws.com', 'DisableKey', { keyId: arn });
    expect(matchesPattern(pattern, { ...refused, detail: { ...refused.detail, errorCode: 'AccessDeniedException' } })).toBe(true);
    for (const eventName of ['EnableKey', 'CancelKeyDeletion', 'DescribeKey', 'CreateKey', 'DisableKeyRotation', 'ImportKeyMaterial']) {
      expect(matchesPattern(pattern, call('kms.amazonaws.com', eventName, { keyId: arn })), eventName).toBe(false);
    }
    // The same name from another service is not KMS's.
    expect(matchesPattern(pattern, call('cloudhsm.amazonaws.com', 'DisableKey', { keyId: arn }))).toBe(false);
    // A rewritten key policy, as KMS's CloudTrail entry records it: it may leave the start role out or let others decrypt.
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'kms:Decrypt', Resource: '*' }] });
    const rewritten = call('kms.amazonaws.com', 'PutKeyPolicy', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', policyName: 'default', policy, bypassPolicyLockoutSafetyCheck: false });
    expect(matchesPattern(pattern, rewritten)).toBe(true);
    expect(matchesPattern(pattern, { ...rewritten, detail: { ...rewritten.detail, errorCode: 'AccessDeniedException' } }), 'refused').toBe(true);
    // A deploy's rewrite of a key its stack manages is a reviewed change.
    expect(matchesPattern(pattern, call('kms.amazonaws.com', 'PutKeyPolicy', { keyId: arn, policyName: 'default', policy }, 'cloudformation.amazonaws.com'))).toBe(false);
    for (const eventName of ['GetKeyPolicy', 'CreateGrant', 'TagResource']) expect(matchesPattern(pattern, call('kms.amazonaws.com', eventName, { keyId: arn })), eventName).toBe(false);
  });

  it('matches the input bucket opened or copied elsewhere, and the transcript bucket copied, made public or given ACLs again, outside a deploy; not the transcript bucket\'s policy, which TrustChangesRule watches', () => {
    const pattern = dataExposurePattern({ inputBucket: 'tkp-input', transcriptBucket: 'tkp-transcripts' }) as Record<string, unknown>;
    const s3 = (eventName: string, bucketName: string, sourceIPAddress?: string) => call('s3.amazonaws.com', eventName, { bucketName }, sourceIPAddress);
    const exposures = ['PutBucketReplication', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock', 'PutBucketAcl', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls'];
    for (const eventName of ['PutBucketPolicy', 'DeleteBucketPolicy', ...exposures]) {
      expect(matchesPattern(pattern, s3(eventName, 'tkp-input')), eventName).toBe(true);
      expect(matchesPattern(pattern, s3(eventName, 'tkp-input', 'cloudformation.amazonaws.com')), `${eventName} by a deploy`).toBe(false);
      expect(matchesPattern(pattern, s3(eventName, 'someone-elses')), `${eventName} elsewhere`).toBe(false);
    }
    for (const eventName of exposures) expect(matchesPattern(pattern, s3(eventName, 'tkp-transcripts')), eventName).toBe(true);
    // One change, one page: the transcript bucket's policy is TrustChangesRule's.
    for (const eventName of ['PutBucketPolicy', 'DeleteBucketPolicy']) expect(matchesPattern(pattern, s3(eventName, 'tkp-transcripts')), eventName).toBe(false);
    // Reading, or removing a replication rule, exposes nothing.
    for (const eventName of ['GetBucketPolicy', 'DeleteBucketReplication', 'GetBucketAcl', 'GetBucketOwnershipControls']) expect(matchesPattern(pattern, s3(eventName, 'tkp-input')), eventName).toBe(false);
  });

  it('matches another function created with, or switched to, one of the stack\'s roles outside a deploy, and not another role', () => {
    const pattern = verifierChangePattern({ service: 'tkp', stage: 'dev', region: 'us-east-1' }, INTAKE) as Record<string, unknown>;
    const withRole = (eventName: string, role: string, sourceIPAddress?: string) => call('lambda.amazonaws.com', eventName, { functionName: 'anything-else', role }, sourceIPAddress);
    for (const role of verifierRoles) {
      expect(matchesPattern(pattern, withRole('CreateFunction20150331', role))).toBe(true);
      expect(matchesPattern(pattern, withRole('UpdateFunctionConfiguration20150331v2', role))).toBe(true);
      expect(matchesPattern(pattern, withRole('CreateFunction20150331', role, 'cloudformation.amazonaws.com'))).toBe(false);
    }
    // Every role of the stack: the start role may write transcripts, the notifications role decides which uploads reach the start queue.
    for (const name of ['start', 'notifications']) expect(matchesPattern(pattern, withRole('CreateFunction20150331', `arn:aws:iam::123456789012:role/tkp-dev-us-east-1-${name}`))).toBe(true);
    for (const role of ['arn:aws:iam::123456789012:role/tkp-dev-eu-west-1-verify', 'arn:aws:iam::123456789012:role/tkp-prod-us-east-1-verify', 'arn:aws:iam::123456789012:role/other']) {
      expect(matchesPattern(pattern, withRole('CreateFunction20150331', role)), role).toBe(false);
    }
    expect(matchesPattern(pattern, withRole('GetFunction20150331v2', verifierRoles[0] as string))).toBe(false);
  });

  it('watches the rule that watches the alarms, which cannot see itself turned off, and no other rule', () => {
    const pattern = verifierChangePattern({ service: 'tkp', stage: 'dev', region: 'us-east-1' }, INTAKE) as Record<string, unknown>;
    for (const eventName of ['DisableRule', 'DeleteRule', 'PutRule']) expect(matchesPattern(pattern, call('events.amazonaws.com', eventName, { name: 'tkp-dev-alerting-changes' }))).toBe(true);
    for (const eventName of ['PutTargets', 'RemoveTargets']) expect(matchesPattern(pattern, call('events.amazonaws.com', eventName, { rule: 'tkp-dev-alerting-changes', ids: ['alarm-topic'] }))).toBe(true);
    expect(matchesPattern(pattern, call('events.amazonaws.com', 'DisableRule', { name: 'tkp-dev-alerting-changes' }, 'cloudformation.amazonaws.com'))).toBe(false);
    expect(matchesPattern(pattern, call('events.amazonaws.com', 'EnableRule', { name: 'tkp-dev-alerting-changes' }))).toBe(false);
    expect(matchesPattern(pattern, call('events.amazonaws.com', 'DisableRule', { name: 'tkp-dev-alerting-changes-2' }))).toBe(false);
    expect(matchesPattern(pattern, call('events.amazonaws.com', 'DisableRule', { name: 'someone-elses-rule' }))).toBe(false);
  });

  it('matches the input bucket\'s notifications replaced by anyone but the stack\'s own notifications function, since no upload would then reach the start queue', () => {
    const pattern = verifierChangePattern({ service: 'tkp', stage: 'dev', region: 'us-east-1' }, INTAKE) as Record<string, unknown>;
    const byRole = (event: ReturnType<typeof call>, arn: string) => ({ ...event, detail: { ...event.detail, userIdentity: { type: 'AssumedRole', arn } } });
    // A person, or another tool's role writing its own notifications onto a shared bucket.
    expect(matchesPattern(pattern, call('s3.amazonaws.com', 'PutBucketNotification', { bucketName: 'tkp-dev-input', NotificationConfiguration: {} }))).toBe(true);
    expect(matchesPattern(pattern, byRole(call('s3.amazonaws.com', 'PutBucketNotificationConfiguration', { bucketName: 'tkp-dev-input' }), 'arn:aws:sts::123456789012:assumed-role/other-teams-deployer/session'))).toBe(true);
    // The stack's own notifications function, in a deploy onto an existing bucket; CloudFormation's own; another bucket's.
    expect(matchesPattern(pattern, byRole(call('s3.amazonaws.com', 'PutBucketNotification', { bucketName: 'tkp-dev-input' }), `${INTAKE.notificationsSession}tkp-dev-bucketNotifications`))).toBe(false);
    expect(matchesPattern(pattern, call('s3.amazonaws.com', 'PutBucketNotification', { bucketName: 'tkp-dev-input' }, 'cloudformation.amazonaws.com'))).toBe(false);
    expect(matchesPattern(pattern, call('s3.amazonaws.com', 'PutBucketNotification', { bucketName: 'tkp-dev-input-2' }))).toBe(false);
  });

  it('matches a rule or alarm of the stack turned off, deleted or rewritten, the alarm topic unsubscribed, filtered, deleted or re-permissioned, and a queue changed, purged or deleted, outside a deploy', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:tkp-dev-alarms';
    const queuePaths = ['/123456789012/tkp-dev-StartQueue-AbC1', '/123456789012/tkp-dev-VerifyDeadLetterQueue-dEf2'];
    const pattern = alertingChangePattern({ namePrefix: 'tkp-dev-', alarmTopic: topic, subscriptionPrefix: `${topic}:`, queuePaths }) as Record<string, unknown>;
    const paged = [
      ...['DisableRule', 'DeleteRule', 'PutRule'].map((name) => call('events.amazonaws.com', name, { name: 'tkp-dev-trust-changes' })),
      call('events.amazonaws.com', 'DisableRule', { name: 'tkp-dev-paging-verdicts', eventBusName: 'tkp-dev-outcomes' }),
      call('events.amazonaws.com', 'RemoveTargets', { rule: 'tkp-dev-verify-rule-1', ids: ['verify'] }),
      call('events.amazonaws.com', 'PutTargets', { rule: 'tkp-dev-sweep-schedule', targets: [] }),
      call('monitoring.amazonaws.com', 'DeleteAlarms', { alarmNames: ['unrelated', 'tkp-dev-verify-dead-letters'] }),
      call('monitoring.amazonaws.com', 'DisableAlarmActions', { alarmNames: ['tkp-dev-start-dead-letters'] }),
      call('monitoring.amazonaws.com', 'PutMetricAlarm', { alarmName: 'tkp-dev-encryption-mismatch', alarmActions: [] }),
      call('sns.amazonaws.com', 'Unsubscribe', { subscriptionArn: `${topic}:5f1c9a3e-0000-4000-8000-000000000001` }),
      call('sns.amazonaws.com', 'SetSubscriptionAttributes', { subscriptionArn: `${topic}:5f1c9a3e-0000-4000-8000-000000000001`, attributeName: 'FilterPolicy' }),
      ...['DeleteTopic', 'SetTopicAttributes', 'RemovePermission'].map((name) => call('sns.amazonaws.com', name, { topicArn: topic })),
      // A queue named by any of SQS's hosts.
      ...['SetQueueAttributes', 'AddPermission', 'RemovePermission', 'PurgeQueue', 'DeleteQueue'].map((name) => call('sqs.amazonaws.com', name, { queueUrl: `https://sqs.us-east-1.amazonaws.com${queuePaths[0]}` })),
      call('sqs.amazonaws.com', 'PurgeQueue', { queueUrl: `https://queue.amazonaws.com${queuePaths[1]}` }),
      // A refused attempt to silence a page is worth one too.
      { ...call('events.amazonaws.com', 'DisableRule', { name: 'tkp-dev-alerting-changes' }), detail: { ...call('events.amazonaws.com', 'DisableRule', { name: 'tkp-dev-alerting-changes' }).detail, errorCode: 'AccessDeniedException' } },
    ];
    for (const event of paged) expect(matchesPattern(pattern, event), JSON.stringify(event.detail)).toBe(true);
    const quiet = [
      // A deploy's changes come from CloudFormation.
      call('events.amazonaws.com', 'DisableRule', { name: 'tkp-dev-trust-changes' }, 'cloudformation.amazonaws.com'),
      call('monitoring.amazonaws.com', 'DeleteAlarms', { alarmNames: ['tkp-dev-verify-dead-letters'] }, 'cloudformation.amazonaws.com'),
      // Another stage's, another topic's (whose name only starts like this one's), and reads or harmless calls.
      call('events.amazonaws.com', 'DisableRule', { name: 'tkp-prod-trust-changes' }),
      call('monitoring.amazonaws.com', 'DeleteAlarms', { alarmNames: ['tkp-prod-verify-dead-letters'] }),
      call('sns.amazonaws.com', 'Unsubscribe', { subscriptionArn: `${topic}-2:5f1c9a3e-0000-4000-8000-000000000001` }),
      call('sns.amazonaws.com', 'DeleteTopic', { topicArn: `${topic}-2` }),
      call('events.amazonaws.com', 'EnableRule', { name: 'tkp-dev-trust-changes' }),
      call('events.amazonaws.com', 'DescribeRule', { name: 'tkp-dev-trust-changes' }),
      call('monitoring.amazonaws.com', 'SetAlarmState', { alarmName: 'tkp-dev-verify-dead-letters' }),
      call('sns.amazonaws.com', 'Subscribe', { topicArn: topic, protocol: 'email' }),
      call('sqs.amazonaws.com', 'PurgeQueue', { queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/tkp-dev-StartQueue-AbC1-copy' }),
      call('sqs.amazonaws.com', 'PurgeQueue', { queueUrl: 'https://sqs.us-east-1.amazonaws.com/999988887777/tkp-dev-StartQueue-AbC1' }),
      call('sqs.amazonaws.com', 'SetQueueAttributes', { queueUrl: `https://sqs.us-east-1.amazonaws.com${queuePaths[0]}` }, 'cloudformation.amazonaws.com'),
      call('sqs.amazonaws.com', 'TagQueue', { queueUrl: `https://sqs.us-east-1.amazonaws.com${queuePaths[0]}` }),
    ];
    for (const event of quiet) expect(matchesPattern(pattern, event), JSON.stringify(event.detail)).toBe(false);
  });

  it('names every rule and alarm of the stack with one prefix, and refuses a stage that would make a rule name too long, saying how long it may be', () => {
    const names = alertingNames({ service: 'transcribe-kms-pipeline', stage: 'dev' });
    expect(names.prefix).toBe('transcribe-kms-pipeline-dev-');
    for (const name of [...Object.values(names.rules), ...Object.values(names.alarms)]) expect(name.startsWith(names.prefix)).toBe(true);
    // The verifier's rules keep the names serverless gave them, so a deploy does not replace them.
    expect(names.rules.verifyTranscription).toBe('transcribe-kms-pipeline-dev-verify-rule-1');
    expect(() => alertingNames({ service: 'transcribe-kms-pipeline', stage: 'a'.repeat(24) })).toThrow(
      'stage "aaaaaaaaaaaaaaaaaaaaaaaa" would make the EventBridge rule name "transcribe-kms-pipeline-aaaaaaaaaaaaaaaaaaaaaaaa-verifier-changes" 65 characters long, over EventBridge\'s 64; use a stage name of at most 23 characters',
    );
    expect(() => alertingNames({ service: 'transcribe-kms-pipeline', stage: 'dev eu' })).toThrow(
      'stage "dev eu" would make the EventBridge rule name "transcribe-kms-pipeline-dev eu-verifier-changes", which takes only letters, digits, . - and _; use a stage name of those characters',
    );
    expect(Object.values(alertingNames({ service: 'transcribe-kms-pipeline', stage: 'a'.repeat(23) }).rules).every((name) => name.length <= 64)).toBe(true);
  });

  it('fits every rule\'s pattern within EventBridge\'s quota for the longest stage names the stack takes, on buckets of its own or existing ones', () => {
    // The stage's longest names: buckets the stack creates within S3's 63 characters, roles within IAM's 64, rules within EventBridge's 64.
    const existing = { existingInputBucket: 'x'.repeat(63), existingTranscriptBucket: 'y'.repeat(63) };
    const stacks = [
      { stage: 'a'.repeat(19), region: 'ap-southeast-2' },
      { stage: 'a'.repeat(22), region: 'ap-southeast-2', ...existing },
      { stage: 'a'.repeat(23), region: 'us-east-1', ...existing },
    ];
    for (const where of stacks) {
      const config = validatePipelineConfig({ rules: [{ prefix: 'a/', languageCode: 'en-US' }] }, { region: where.region });
      const ctx = { service: 'transcribe-kms-pipeline', jobNamePrefix: 'tkp.a.', config, ...where };
      const resources = alarmResources(ctx) as Record<string, any>;
      for (const rule of ['TrustChangesRule', 'VerifierChangesRule', 'AlertingChangesRule', 'QueueTriggersRule', 'KeyLossesRule', 'DataExposureRule']) expect(resources[rule].Properties.EventPattern, rule).toBeDefined();
    }
  });

  it('matches a trail stopped, deleted or narrowed, which would silence this rule and the deleted-job rule, and not a trail started or read', () => {
    const pattern = trustChangePattern(config, where) as Record<string, unknown>;
    const trail = (eventName: string) =>
      trailEnvelope({ eventSource: 'cloudtrail.amazonaws.com', eventName, account: '123456789012', requestParameters: { name: 'org-trail' } }, 'c0ffee00-0000-4000-8000-000000000003', 'us-east-1');
    for (const name of ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors']) expect(matchesPattern(pattern, trail(name))).toBe(true);
    for (const name of ['StartLogging', 'DescribeTrails', 'GetTrailStatus']) expect(matchesPattern(pattern, trail(name))).toBe(false);
  });

  it('watches only what the config leaves to others, and always the ledger bucket’s policy and lifecycle, the outcome bus’s policy and the trails', () => {
    const ledgerPolicy = { eventSource: ['s3.amazonaws.com'], eventName: ['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration'], requestParameters: { bucketName: ['tkp-transcripts'] } };
    const busPolicy = { eventSource: ['events.amazonaws.com'], eventName: ['PutPermission', 'RemovePermission'], requestParameters: { eventBusName: where.outcomeBus } };
    const trails = { eventSource: ['cloudtrail.amazonaws.com'], eventName: ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'] };
    const pattern = trustChangePattern(config, where) as Record<string, unknown>;
    // The policy keeps the ledger to the verifiers; a lifecycle rule would expire it, and the transcripts, whatever the policy denies.
    for (const name of ['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration']) {
      expect(matchesPattern(pattern, bucketDefault(name, 'tkp-transcripts'))).toBe(true);
      // Another bucket's policy is not the ledger's.
      expect(matchesPattern(pattern, bucketDefault(name, 'acme-archive'))).toBe(false);
    }
    // Removing the lifecycle only keeps old versions longer: nothing is lost.
    expect(matchesPattern(pattern, bucketDefault('DeleteBucketLifecycle', 'tkp-transcripts'))).toBe(false);
    // Key ARNs and key IDs pin their keys: only the ledger's policy is watched.
    const pinned = validatePipelineConfig({ rules: [config.rules[2], config.rules[3]].map((r) => ({ prefix: r?.prefix, kmsKey: r?.kmsKey?.value, languageCode: 'en-US' })) }, { region: 'us-east-1' });
    expect(trustChangePattern(pinned, where)).toEqual({
      source: ['aws.s3', 'aws.events', 'aws.cloudtrail'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { $or: [ledgerPolicy, busPolicy, trails] },
    });
    const keyless = validatePipelineConfig({ rules: [{ prefix: 'a/', languageCode: 'en-US' }] }, { region: 'us-east-1' });
    expect(trustChangePattern(keyless, where)).toEqual({
      source: ['aws.s3', 'aws.events', 'aws.cloudtrail'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        $or: [{ eventSource: ['s3.amazonaws.com'], eventName: ['PutBucketEncryption', 'DeleteBucketEncryption'], requestParameters: { bucketName: ['tkp-transcripts'] } }, ledgerPolicy, busPolicy, trails],
      },
    });
  });

  it('refuses at package time a config whose aliases would overflow EventBridge\'s pattern quota, saying what to change', () => {
    const many = validatePipelineConfig(
      { rules: Array.from({ length: 60 }, (_, i) => ({ prefix: `team-${i}/`, kmsKey: `alias/transcripts-for-team-number-${i}`, languageCode: 'en-US' })) },
      { region: 'us-east-1' },
    );
    const ctx = { service: 'transcribe-kms-pipeline', stage: 'dev', region: 'us-east-1', jobNamePrefix: 'tkp.dev.' };
    expect(() => alarmResources({ ...ctx, config: many })).toThrow(/event pattern of up to \d+ characters, over EventBridge's default quota of 2048; name fewer keys by alias/);
    const fewer = validatePipelineConfig({ rules: many.rules.slice(0, 20).map((r) => ({ prefix: r.prefix, kmsKey: r.kmsKey?.value, languageCode: 'en-US' })) }, { region: 'us-east-1' });
    expect(alarmResources({ ...ctx, config: fewer }).TrustChangesRule).toBeDefined();
  });
});

describe('what a CloudTrail page says', () => {
  const ctx = { service: 'tkp', stage: 'dev' };
  const { rules } = alertingNames(ctx);

  it('wraps the event of each CloudTrail rule with the rule and what to do, and leaves a verdict (which says it itself) unchanged', () => {
    const inputs = changePageInputs(ctx);
    expect(Object.keys(inputs).sort()).toEqual([rules.alertingChanges, rules.trustChanges, rules.verifierChanges, rules.queueTriggers, rules.keyLosses, rules.dataExposure].sort());
    // Every rule that pages, but the verdicts' own, has one; no function's rule has one.
    expect(stackRules(ctx).filter((rule) => inputs[rule.name]).map((rule) => rule.name)).toEqual(stackRules(ctx).filter((rule) => 'alarmTopic' in rule.target && !rule.bus).map((rule) => rule.name));
    const event = trailEnvelope({ eventSource: 'kms.amazonaws.com', eventName: 'UpdateAlias', account: '123456789012', requestParameters: { aliasName: 'alias/a"b<c>' } }, 'c0ffee00-0000-4000-8000-000000000009', 'us-east-1');
    // As EventBridge fills in <aws.events.event.json>: the event unescaped, as a JSON value.
    const page = JSON.parse((inputs[rules.trustChanges]?.InputTemplate ?? '').replace('<aws.events.event.json>', JSON.stringify(event)));
    expect(page).toEqual({ page: rules.trustChanges, whatToDo: CHANGE_PAGE_WHAT_TO_DO.trustChanges, event });
  });

  it('uses no placeholder but the event, and no < or > in its text, which EventBridge cannot escape', () => {
    for (const { InputTemplate } of Object.values(changePageInputs(ctx))) {
      expect(InputTemplate.match(/<[^>]*>/g)).toEqual(['<aws.events.event.json>']);
      expect(InputTemplate.replace('<aws.events.event.json>', '')).not.toMatch(/[<>]/);
      expect(InputTemplate.length).toBeLessThanOrEqual(8192);
    }
    for (const text of Object.values(CHANGE_PAGE_WHAT_TO_DO)) expect(text).toMatch(/which a redeploy does not do.*tkp audit --since.*Putting back what changed outside a deploy\.$/);
  });

  it('is on the alarm topic target of the deployed rules', () => {
    const config = validatePipelineConfig({ rules: [{ prefix: 'a/', languageCode: 'en-US' }] }, { region: 'us-east-1' });
    const resources = alarmResources({ ...ctx, region: 'us-east-1', jobNamePrefix: 'tkp.dev.', config }) as Record<string, any>;
    expect(resources.VerifierChangesRule.Properties.Targets[0].InputTransformer).toEqual(changePageInputs(ctx)[rules.verifierChanges]);
    expect(resources.AlertingChangesRule.Properties.Targets[0].InputTransformer).toEqual(changePageInputs(ctx)[rules.alertingChanges]);
    expect(resources.QueueTriggersRule.Properties.Targets[0].InputTransformer).toEqual(changePageInputs(ctx)[rules.queueTriggers]);
    expect(resources.KeyLossesRule.Properties.Targets[0].InputTransformer).toEqual(changePageInputs(ctx)[rules.keyLosses]);
    expect(resources.DataExposureRule.Properties.Targets[0].InputTransformer).toEqual(changePageInputs(ctx)[rules.dataExposure]);
    expect(resources.PagingVerdictsRule.Properties.Targets[0].InputTransformer).toBeUndefined();
  });
});

describe('role names', () => {
  it('are cut to IAM\'s 64 characters, and a stage that would cut two to one name is refused with the length that works', () => {
    expect(roleName({ service: 'transcribe-kms-pipeline', stage: 'a'.repeat(22), region: 'ap-southeast-2' }, 'sweep')).toBe(`transcribe-kms-pipeline-${'a'.repeat(22)}-ap-southeast-2-sw`);
    expect(() => roleName({ service: 'transcribe-kms-pipeline', stage: 'a'.repeat(23), region: 'ap-southeast-2' }, 'verify')).toThrow(
      new Error(
        `stage "${'a'.repeat(23)}" in ap-southeast-2 would give the stack's start and sweep roles one name once cut to IAM's 64 characters ` +
          `("transcribe-kms-pipeline-${'a'.repeat(23)}-ap-southeast-2-s"); use a stage name of at most 22 characters`,
      ),
    );
    expect(roleName({ service: 'transcribe-kms-pipeline', stage: 'prod', region: 'eu-west-1' }, 'transcribe-data')).toBe('transcribe-kms-pipeline-prod-eu-west-1-transcribe-data');
  });
});
