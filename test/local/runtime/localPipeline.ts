import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { InvokeStore } from '@aws/lambda-invoke-store';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { readConfigJson, regionNamedBy } from '../../../shared/cli/cliConfig';
import type { PipelineConfig } from '../../../shared/config/rule';
import { CHANGE_PAGE_WHAT_TO_DO } from '../../../shared/stack/alarmResources';
import { outcomeEventPattern } from '../../../shared/stack/eventPatterns';
import { functionName } from '../../../shared/stack/stackNames';
import { QUEUE_SETTINGS } from '../../../shared/stack/queueSettings';
import { JOB_TYPE_FACTS } from '../../../shared/aws/jobTypes';
import { envelope, matchesPattern, trailEnvelope } from './eventBus';
import { startGateway, type FaultRule, type Gateway, type TrailedCall } from '../emulator/gateway';
import { asyncFailureRecord, deleteBatch, invoke, lambdaContext, runAsyncSource, runSqsSource, type Handler, type RuntimeCounters } from './lambdaRuntime';
import { captureLambdaLogs, type LogRecord } from './logCapture';
import { MOTO_DEFAULT_ACCOUNT, motoKeyProblem, startMoto, type Moto } from '../emulator/moto';
import { parseTamper } from '../cli/samples';
import { LOCAL_CREDENTIALS, localNames, localRoleArn, localRulePatterns, onOrigin, provision, type ProvisionedStack } from './provision';
import { DEFAULT_QUOTAS, type EmulatorFaults, type Quotas, type Timing, type TranscribeEmulator } from '../emulator/emulatorModel';
import { startTranscribeEmulator } from '../emulator/transcribeEmulator';
import { fileURLToPath } from 'node:url';

export interface LocalPipelineOptions {
  /** Defaults to the repository's pipeline.config.json. */
  configPath?: string;
  stage?: string;
  /** Defaults to the region the config's key ARNs name, else us-east-1. */
  region?: string;
  /** Service seconds per real second, for the emulator's jobs and quotas and the queues' delays. */
  timeScale?: number;
  quotas?: Partial<Quotas>;
  timing?: Partial<Timing>;
  faults?: EmulatorFaults;
  /** Concurrent batches of the start function (Lambda's maximum concurrency). */
  startConcurrency?: number;
  /** Seconds a finished job must wait before the sweeper may take it. */
  sweepGraceSeconds?: number;
  /** The transcript bucket's default encryption; `aws:kms` stands for an existing bucket with a KMS default. */
  transcriptBucketDefault?: 'AES256' | 'aws:kms';
  /** Hold the start function's event source until resumeStart(), so a burst can land first. */
  startPaused?: boolean;
  onLog?: (record: LogRecord) => void;
}

export interface OutcomeEvent {
  detailType: string;
  detail: Record<string, any>;
  /** For a CloudTrail call on the alarm topic, the rule whose page it is. */
  page?: ChangePage;
}

/** The rules that page on CloudTrail calls, by their key in CHANGE_PAGE_WHAT_TO_DO. */
export type ChangePage = keyof typeof CHANGE_PAGE_WHAT_TO_DO;

export interface DeadLetter {
  queue: 'start' | 'verify';
  reason: string;
  body: string;
  attributes: Record<string, string>;
}

/** TRANSCRIBE_EMULATOR_TAMPER=MATCH[:wrong-key|no-kms] switches tampering on without a flag. */
function tamperFromEnvironment(): EmulatorFaults {
  const value = process.env.TRANSCRIBE_EMULATOR_TAMPER;
  return value ? { tamper: parseTamper(value) } : {};
}

const DEFAULT_CONFIG = fileURLToPath(new URL('../../../pipeline.config.json', import.meta.url));

/**
 * The whole pipeline on one machine: moto for S3, SQS, KMS and EventBridge, the gateway for
 * what moto lacks, the Transcribe emulator, and the real handlers driven as Lambda would drive
 * them. One per process, because the handlers read their settings from the environment once.
 */
export class LocalPipeline {
  readonly deadLetters: DeadLetter[] = [];
  readonly logs: LogRecord[] = [];
  readonly counters: RuntimeCounters = { startInvocations: 0, verifyInvocations: 0, verifyFailures: 0, asyncDeadLetters: 0 };
  readonly runtimeErrors: unknown[] = [];

  private running = true;
  private startPaused = false;
  /** Set by retainDeadLetters(): the DLQs then keep their messages, as deployed ones do. */
  private lettersRetained = false;
  /** Set once the collectors have stopped: from then on the runtime reports the verify letters it writes. */
  private collectorsStopped = false;
  private letterLoops: Promise<void>[] = [];
  private readonly inFlight = { count: 0 };
  private loops: Promise<void>[] = [];
  private restoreConsole: () => void = () => undefined;
  private sweepHandler?: Handler<unknown, void>;

  private constructor(
    readonly moto: Moto,
    readonly gateway: Gateway,
    readonly emulator: TranscribeEmulator,
    readonly stack: ProvisionedStack,
    readonly config: PipelineConfig,
    readonly configPath: string,
    readonly s3: S3Client,
    readonly sqs: SQSClient,
    readonly timeScale: number,
    /** Every event published on the outcome bus that the stack's outcome pattern matches. */
    readonly outcomes: OutcomeEvent[],
    /** What the alarm topic received: every paging verdict, and every call that changes what verdicts follow (TrustChangesRule) or a function of the stack (VerifierChangesRule). */
    readonly alarms: OutcomeEvent[],
  ) {}

  static async start(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    // Before any SDK client exists: the invocation store is created once, on first use.
    process.env.AWS_LAMBDA_MAX_CONCURRENCY = '64';
    const timeScale = options.timeScale ?? 20;
    const configPath = options.configPath ?? DEFAULT_CONFIG;
    const { raw: rawConfig } = readConfigJson(configPath);
    const names = localNames(options.stage, options.region ?? regionNamedBy(rawConfig));
    const config = validatePipelineConfig(rawConfig, {
      region: names.region,
      inputBucket: names.inputBucket,
      transcriptBucket: names.transcriptBucket,
      source: configPath,
    });
    const moto = await startMoto();
    try {
      const credentials = LOCAL_CREDENTIALS;
      const direct = { region: names.region, endpoint: moto.endpoint, credentials };
      const s3 = new S3Client({ ...direct, forcePathStyle: true });
      const sqs = new SQSClient(direct);
      const events = new EventBridgeClient(direct);
      const outcomes: OutcomeEvent[] = [];
      const alarms: OutcomeEvent[] = [];
      const outcomeRule = outcomeEventPattern(names.outcomeSource);
      const patterns = localRulePatterns(config, names);
      const pagingRule = patterns.pagingVerdicts;
      const changeRules = (Object.keys(CHANGE_PAGE_WHAT_TO_DO) as ChangePage[]).map((page) => ({ page, pattern: patterns[page] }));
      // The verifier's rules, as serverless.yml deploys them: the completion events come from the
      // emulator's PutEvents, a deleted job from CloudTrail's record of the call.
      const { deletion: deletionRule, ...completionPatterns } = patterns.verifier;
      const completionRules = Object.values(completionPatterns);
      // The default bus's rules for the calls a trail records: to the alarm topic for what
      // TrustChangesRule watches (shared/stack/alarmResources.ts), what VerifierChangesRule
      // watches of the functions (Lambda's calls through the gateway), what AlertingChangesRule
      // watches of the queues (SQS's calls through it), QueueTriggersRule of their triggers,
      // KeyLossesRule of the keys and DataExposureRule of the buckets, and to the verifier for a
      // deleted job (serverless.yml). Only the emulator deletes jobs, after the stack exists.
      // The call also goes onto moto's default bus, whose rules page through the alarm topic as
      // deployed (to tkp-alarm-inbox, with what to do).
      const onTrailedCall = (call: TrailedCall) => {
        const event = trailEnvelope(call, randomUUID(), names.region);
        const page = changeRules.find(({ pattern }) => matchesPattern(pattern, event))?.page;
        if (page) alarms.push({ detailType: event['detail-type'], detail: event.detail as Record<string, any>, page });
        events
          .send(new PutEventsCommand({ Entries: [{ Source: event.source, DetailType: event['detail-type'], Detail: JSON.stringify(event.detail) }] }))
          .then(({ Entries }) => Entries?.filter((entry) => entry.ErrorCode).forEach((entry) => pipeline.runtimeErrors.push(new Error(`PutEvents of a trailed ${call.eventName}: ${entry.ErrorCode} ${entry.ErrorMessage}`))))
          .catch((error: unknown) => pipeline.runtimeErrors.push(error));
        if (matchesPattern(deletionRule, event)) {
          sqs.send(new SendMessageCommand({ QueueUrl: stack.completionQueueUrl, MessageBody: JSON.stringify(event) })).catch((error: unknown) => pipeline.runtimeErrors.push(error));
        }
      };
      const gateway = await startGateway(moto.endpoint, {
        timeScale,
        onTrailedCall,
        onPutEvents: (entries, ids) =>
          entries.forEach((entry, i) => {
            if (entry.EventBusName !== names.outcomeBus) return;
            const event = envelope(entry, ids[i] ?? randomUUID(), MOTO_DEFAULT_ACCOUNT, names.region);
            if (matchesPattern(outcomeRule, event)) outcomes.push({ detailType: event['detail-type'], detail: event.detail as Record<string, any> });
            // The outcome bus's rule to the alarm topic (shared/stack/alarmResources.ts), as a list of what the topic received.
            if (matchesPattern(pagingRule, event)) alarms.push({ detailType: event['detail-type'], detail: event.detail as Record<string, any> });
          }),
      });
      const stack = await provision({ s3, sqs, events, motoEndpoint: moto.endpoint, gatewayEndpoint: gateway.endpoint }, config, names, gateway.declareKey, {
        timeScale,
        ...(options.transcriptBucketDefault && { transcriptBucketDefault: options.transcriptBucketDefault }),
      });
      const emulator = await startTranscribeEmulator({
        region: names.region,
        account: MOTO_DEFAULT_ACCOUNT,
        s3,
        kms: new KMSClient({ region: names.region, endpoint: gateway.endpoint, credentials }),
        events,
        deliver: async (event) => {
          if (completionRules.some((rule) => matchesPattern(rule, event))) await sqs.send(new SendMessageCommand({ QueueUrl: stack.completionQueueUrl, MessageBody: JSON.stringify(event) }));
        },
        onTrailedCall,
        timeScale,
        ...(options.quotas && { quotas: options.quotas }),
        ...(options.timing && { timing: options.timing }),
        faults: options.faults ?? tamperFromEnvironment(),
      });
      const pipeline = new LocalPipeline(moto, gateway, emulator, stack, config, configPath, s3, sqs, timeScale, outcomes, alarms);
      await pipeline.run(options);
      return pipeline;
    } catch (error) {
      await moto.stop();
      throw error;
    }
  }

  /** The environment serverless.yml gives the functions, pointed at the local stand-ins. */
  environment(options: LocalPipelineOptions = {}): Record<string, string> {
    const { names } = this.stack;
    return {
      AWS_REGION: names.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: this.gateway.endpoint,
      AWS_ENDPOINT_URL_TRANSCRIBE: this.emulator.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      POWERTOOLS_SERVICE_NAME: 'transcribe-kms-pipeline',
      POWERTOOLS_METRICS_NAMESPACE: 'TranscribeKmsPipeline',
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      PIPELINE_CONFIG_PATH: this.configPath,
      JOB_NAME_PREFIX: names.jobNamePrefix,
      INPUT_BUCKET: names.inputBucket,
      TRANSCRIPT_BUCKET: names.transcriptBucket,
      // Through the gateway, as every other call of the handlers: the SQS client sends to the queue
      // URL's own host, and the gateway is what scales visibility delays to the local clock.
      START_QUEUE_URL: this.viaGateway(this.stack.startQueueUrl),
      START_DLQ_URL: this.viaGateway(this.stack.startDeadLetterQueueUrl),
      MAX_RECEIVE_COUNT: String(QUEUE_SETTINGS.maxReceiveCount),
      // One module instance serves every local "container", so it is paced at the whole quota.
      START_RATE_PER_SECOND: String((options.quotas?.startTps ?? DEFAULT_QUOTAS.startTps) * this.timeScale * 0.96),
      OUTCOME_BUS_NAME: names.outcomeBus,
      // Transcribe's data access role (Call Analytics jobs, deferred jobs): the emulator checks its form, not IAM.
      DATA_ACCESS_ROLE_ARN: localRoleArn(names, 'transcribe-data'),
      // The preflight function runs as the start role; moto has one identity, so this only names it.
      PREFLIGHT_ROLE_ARN: localRoleArn(names, 'start'),
      OUTCOME_EVENT_SOURCE: names.outcomeSource,
      VERDICT_LEASE_SECONDS: String(120 / this.timeScale),
      MISSING_TRANSCRIPT_RETRIES: '2',
      MISSING_TRANSCRIPT_RETRY_DELAY_MS: String(Math.max(10, Math.round(2000 / this.timeScale))),
      SWEEP_LOOKBACK_SECONDS: '86400',
      SWEEP_GRACE_SECONDS: String(options.sweepGraceSeconds ?? 0),
      SWEEP_RETRY_DELAY_MS: String(Math.round(5000 / this.timeScale)),
    };
  }

  private async run(options: LocalPipelineOptions) {
    this.startPaused = options.startPaused ?? false;
    Object.assign(process.env, this.environment(options));
    this.restoreConsole = captureLambdaLogs((record) => {
      this.logs.push(record);
      options.onLog?.(record);
    });
    // Module initialisation runs in an invocation context of its own, as on a multi-concurrency runtime.
    const store = await InvokeStore.getInstanceAsync(true);
    const [{ handler: start }, { handler: verify }, { handler: sweep }, { handler: preflight }] = await store.run({}, () =>
      Promise.all([import('../../../functions/start'), import('../../../functions/verify'), import('../../../functions/sweep'), import('../../../functions/preflight')]),
    );
    this.sweepHandler = sweep as unknown as Handler<unknown, void>;
    const { names } = this.stack;
    // `tkp check --deployed` invokes it through the gateway, as it would through Lambda's Invoke API.
    const preflightName = `transcribe-kms-pipeline-${names.stage}-preflight`;
    this.gateway.registerFunction(preflightName, (payload) =>
      invoke(preflight as unknown as Handler<unknown, unknown>, payload, lambdaContext(preflightName, names.region, MOTO_DEFAULT_ACCOUNT)),
    );
    // `tkp redrive --verify` invokes these asynchronously: an event for the verifier joins its
    // asynchronous queue (retries, then the verify DLQ); a sweep runs now, failing into the DLQ.
    this.gateway.registerFunction(functionName(this.stack.names, 'verify'), (payload) =>
      this.sqs.send(new SendMessageCommand({ QueueUrl: this.stack.completionQueueUrl, MessageBody: JSON.stringify(payload) })),
    );
    this.gateway.registerFunction(functionName(this.stack.names, 'sweep'), () => this.sweep({ deadLetterOnFailure: true }).catch((error: unknown) => this.runtimeErrors.push(error)));
    const onError = (error: unknown) => this.runtimeErrors.push(error);
    const isRunning = () => this.running;
    const startWanted = async () => {
      while (this.startPaused && this.running) await sleep(100);
      return this.running;
    };
    this.loops = [
      ...runSqsSource(
        {
          sqs: this.sqs,
          queueUrl: this.stack.startQueueUrl,
          queueArn: `arn:aws:sqs:${names.region}:${MOTO_DEFAULT_ACCOUNT}:tkp-start`,
          region: names.region,
          account: MOTO_DEFAULT_ACCOUNT,
          functionName: functionName(this.stack.names, 'start'),
          batchSize: QUEUE_SETTINGS.batchSize,
          concurrency: options.startConcurrency ?? QUEUE_SETTINGS.maximumConcurrency,
          handler: start as unknown as Handler<SQSEvent, SQSBatchResponse | void>,
          onError,
        },
        this.counters,
        startWanted,
        this.inFlight,
      ),
      ...runAsyncSource(
        {
          sqs: this.sqs,
          queueUrl: this.stack.completionQueueUrl,
          deadLetterQueueUrl: this.stack.verifyDeadLetterQueueUrl,
          region: names.region,
          account: MOTO_DEFAULT_ACCOUNT,
          functionName: functionName(this.stack.names, 'verify'),
          handler: verify as unknown as Handler<unknown, unknown>,
          maximumRetryAttempts: QUEUE_SETTINGS.verifyRetryAttempts,
          retryDelaysMs: [60_000, 120_000].map((ms) => ms / this.timeScale),
          concurrency: 4,
          onError,
          onDeadLetter: (body) => this.retainedVerifyLetter(body),
        },
        this.counters,
        isRunning,
        this.inFlight,
      ),
      ...(this.letterLoops = [
        this.collect(
          this.stack.startDeadLetterQueueUrl,
          (message) => {
            const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']));
            this.deadLetters.push({ queue: 'start', reason: attributes.reason ?? '(moved by the redrive policy, no reason recorded)', body: message.Body ?? '', attributes });
          },
          () => this.lettersRetained,
        ),
        this.collect(this.stack.verifyDeadLetterQueueUrl, (message) => this.recordVerifyLetter(message.Body ?? ''), () => this.lettersRetained),
      ]),
    ];
  }

  /** Lambda's record of a failed invocation, as the local mode reports it. */
  private recordVerifyLetter(body: string): void {
    let record: { responsePayload?: { errorType?: string; errorMessage?: string } } = {};
    try {
      record = JSON.parse(body) as typeof record;
    } catch {
      // reported with no error type
    }
    const reason = `${record.responsePayload?.errorType ?? 'Error'}: ${record.responsePayload?.errorMessage ?? '(no message)'}`;
    this.deadLetters.push({ queue: 'verify', reason, body, attributes: {} });
  }

  /**
   * Once the collectors have stopped, the runtime still reports what it writes to the verify DLQ
   * (the start function logs its own). Not before: a collector still reading would report the
   * same letter again, and retainDeadLetters would put it back twice.
   */
  private retainedVerifyLetter(body: string): void {
    if (this.collectorsStopped) this.recordVerifyLetter(body);
  }

  /** Drains a queue the local mode reads for the user (outcome events and dead letters), until `done`. */
  private async collect(queueUrl: string, onMessage: (message: Message) => void, done: () => boolean = () => false): Promise<void> {
    while (this.running && !done()) {
      try {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) continue;
        for (const message of Messages) onMessage(message);
        await deleteBatch({ sqs: this.sqs, queueUrl }, Messages);
      } catch (error) {
        if (this.running) this.runtimeErrors.push(error);
        await sleep(200);
      }
    }
  }

  /**
   * From now on the DLQs keep their messages, as deployed ones do, for `tkp redrive`: the local
   * mode stops draining them and puts back what it drained so far, with the start function's
   * reason attributes (new message IDs). `tkp local --keep` does this once its run is reported.
   */
  async retainDeadLetters(): Promise<void> {
    if (this.lettersRetained) return;
    this.lettersRetained = true;
    await Promise.all(this.letterLoops);
    this.collectorsStopped = true;
    // What the collectors drained; letters reported from here on are already in the DLQ.
    for (const letter of [...this.deadLetters]) {
      const attributes = Object.entries(letter.attributes).filter(([, value]) => value !== '');
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: letter.queue === 'start' ? this.stack.startDeadLetterQueueUrl : this.stack.verifyDeadLetterQueueUrl,
          MessageBody: letter.body,
          ...(attributes.length > 0 && {
            MessageAttributes: Object.fromEntries(attributes.map(([name, value]) => [name, { DataType: name === 'receiveCount' ? 'Number' : 'String', StringValue: value }])),
          }),
        }),
      );
    }
  }

  /** Messages in a DLQ (visible, hidden or delayed): what its alarm counts. */
  deadLetterDepth(queue: 'start' | 'verify'): Promise<number> {
    return this.queueDepth(queue === 'start' ? this.stack.startDeadLetterQueueUrl : this.stack.verifyDeadLetterQueueUrl);
  }

  /** Lets the start function's event source poll again after `startPaused`. */
  resumeStart(): void {
    this.startPaused = false;
  }

  /** Puts an object into the input bucket, as an uploader would; S3 notifies the start queue. A key moto cannot store is refused, saying so. */
  async upload(key: string, body: Buffer | string): Promise<void> {
    const problem = motoKeyProblem(key);
    if (problem) throw new Error(problem);
    await this.s3.send(new PutObjectCommand({ Bucket: this.stack.names.inputBucket, Key: key, Body: body }));
  }

  async head(bucket: string, key: string) {
    return this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  }

  addFault(rule: FaultRule): () => void {
    return this.gateway.addFault(rule);
  }

  /** Delivers Transcribe's completion event for a job, as EventBridge would (to replay a lost one, or forge another stack's). */
  async deliverCompletion(jobName: string, status: 'COMPLETED' | 'FAILED' = 'COMPLETED', jobType: 'transcription' | 'callAnalytics' = 'transcription'): Promise<void> {
    const detail = jobType === 'callAnalytics' ? { JobName: jobName, JobStatus: status } : { TranscriptionJobName: jobName, TranscriptionJobStatus: status };
    const entry = { Source: 'aws.transcribe', DetailType: JOB_TYPE_FACTS[jobType].completionDetailType as string, Detail: JSON.stringify(detail), Resources: [] };
    const event = envelope(entry, randomUUID(), MOTO_DEFAULT_ACCOUNT, this.stack.names.region);
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.stack.completionQueueUrl, MessageBody: JSON.stringify(event) }));
  }

  /** A queue's URL through the gateway, which every client outside moto itself is given. */
  viaGateway(queueUrl: string): string {
    return onOrigin(queueUrl, this.gateway.endpoint);
  }

  /**
   * Runs the scheduled sweeper once, now. It throws what the sweeper throws; with
   * `deadLetterOnFailure`, a failed sweep goes to the verify DLQ instead, as the deployed
   * schedule's on-failure destination sends it (serverless.yml: no retries).
   */
  async sweep(options: { deadLetterOnFailure?: boolean } = {}): Promise<void> {
    if (!this.sweepHandler) return;
    const fn = { functionName: functionName(this.stack.names, 'sweep'), region: this.stack.names.region, account: MOTO_DEFAULT_ACCOUNT };
    const event = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    try {
      await invoke(this.sweepHandler, event, lambdaContext(fn.functionName, fn.region, fn.account));
    } catch (error) {
      if (!options.deadLetterOnFailure) throw error;
      const body = JSON.stringify(asyncFailureRecord(fn, event, error, 1));
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.stack.verifyDeadLetterQueueUrl, MessageBody: body }));
      this.retainedVerifyLetter(body);
    }
  }

  private async queueDepth(queueUrl: string): Promise<number> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
  }

  /**
   * Waits until nothing is left to do: every queue empty, no invocation running, no job
   * unfinished, and that state held for a moment (events travel through moto in between).
   */
  async settle(options: { timeoutMs?: number; onProgress?: () => void } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    let quietSince: number | undefined;
    for (;;) {
      options.onProgress?.();
      const depths = await Promise.all(
        // Retained DLQs are where messages rest, not work to wait for.
        [this.stack.startQueueUrl, this.stack.completionQueueUrl, ...(this.lettersRetained ? [] : [this.stack.startDeadLetterQueueUrl, this.stack.verifyDeadLetterQueueUrl])].map((url) =>
          this.queueDepth(url),
        ),
      );
      const busy = depths.some((d) => d > 0) || this.inFlight.count > 0 || this.emulator.jobs().some((j) => j.status === 'QUEUED' || j.status === 'IN_PROGRESS');
      if (busy) quietSince = undefined;
      else quietSince ??= Date.now();
      if (quietSince !== undefined && Date.now() - quietSince > 1500) return;
      if (Date.now() > deadline) throw new Error(`the local pipeline did not settle within ${options.timeoutMs ?? 120_000} ms (queue depths ${depths.join('/')}, ${this.inFlight.count} invocations running)`);
      await sleep(250);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    this.restoreConsole();
    await this.emulator.close();
    await this.gateway.close();
    await this.moto.stop();
  }
}
