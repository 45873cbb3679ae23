/**
 * The Transcribe JSON wire protocol (`X-Amz-Target: Transcribe.<Operation>`, awsJson1_1) on a
 * loopback port, so the SDK reaches the emulator through AWS_ENDPOINT_URL_TRANSCRIBE. Each
 * operation takes the SDK's own input shape; errors go out as the service writes them.
 */
import type {
  DeleteCallAnalyticsJobCommandInput,
  DeleteMedicalTranscriptionJobCommandInput,
  DeleteTranscriptionJobCommandInput,
  GetCallAnalyticsJobCommandInput,
  GetMedicalTranscriptionJobCommandInput,
  GetTranscriptionJobCommandInput,
  ListCallAnalyticsJobsCommandInput,
  ListMedicalTranscriptionJobsCommandInput,
  ListTagsForResourceCommandInput,
  ListTranscriptionJobsCommandInput,
  TagResourceCommandInput,
  UntagResourceCommandInput,
} from '@aws-sdk/client-transcribe';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TAG_MAX_COUNT } from '../../../shared/aws/transcribeModel';
import type { Job, JobType } from './emulatorModel';
import type { JobScheduler } from './jobScheduler';
import { listenOnLoopback } from './loopback';
import { ServiceError } from './transcribeValidation';


/** The JSON protocol sends timestamps as epoch seconds. */
function serialize(body: unknown): string {
  return JSON.stringify(body, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : value;
  });
}

type Operation = (input: Record<string, unknown>) => unknown;

/** Reads the wire body as the operation's SDK input shape; members may be missing, as on the wire. */
const operation =
  <Input>(fn: (input: Partial<Input>) => unknown): Operation =>
  (raw) =>
    fn(raw as unknown as Partial<Input>);

/** One List*Jobs page: a status and a name filter, newest first, with an opaque next token. */
function listPage<Summary>(
  scheduler: JobScheduler,
  jobType: JobType,
  input: { Status?: string; JobNameContains?: string; MaxResults?: number; NextToken?: string },
  summarize: (job: Job) => Summary,
) {
  const contains = typeof input.JobNameContains === 'string' ? input.JobNameContains.toLowerCase() : undefined;
  const max = Math.min(100, Math.max(1, Number(input.MaxResults ?? 100)));
  const matching = scheduler
    .jobsOf(jobType)
    .filter((j) => (!input.Status || j.status === input.Status) && (!contains || j.name.toLowerCase().includes(contains)))
    .sort((a, b) => b.creationTime - a.creationTime || a.name.localeCompare(b.name));
  const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64').toString()) : 0;
  return {
    summaries: matching.slice(start, start + max).map(summarize),
    ...(input.Status && { Status: input.Status }),
    ...(start + max < matching.length && { NextToken: Buffer.from(String(start + max)).toString('base64') }),
  };
}

export function transcribeOperations(scheduler: JobScheduler): Record<string, Operation> {
  return {
    StartTranscriptionJob: (input) => ({ TranscriptionJob: scheduler.describe(scheduler.startJob('transcription', input)) }),
    GetTranscriptionJob: operation<GetTranscriptionJobCommandInput>((input) => {
      return { TranscriptionJob: scheduler.describe(scheduler.getJob('transcription', input.TranscriptionJobName)) };
    }),
    ListTranscriptionJobs: operation<ListTranscriptionJobsCommandInput>((input) => {
      const { summaries, ...page } = listPage(scheduler, 'transcription', input, scheduler.summary);
      return { ...page, TranscriptionJobSummaries: summaries };
    }),
    DeleteTranscriptionJob: operation<DeleteTranscriptionJobCommandInput>((input) => {
      scheduler.deleteJob(input.TranscriptionJobName, 'transcription');
      return {};
    }),
    StartCallAnalyticsJob: (input) => ({ CallAnalyticsJob: scheduler.describeCallAnalytics(scheduler.startJob('callAnalytics', input)) }),
    GetCallAnalyticsJob: operation<GetCallAnalyticsJobCommandInput>((input) => {
      return { CallAnalyticsJob: scheduler.describeCallAnalytics(scheduler.getJob('callAnalytics', input.CallAnalyticsJobName)) };
    }),
    ListCallAnalyticsJobs: operation<ListCallAnalyticsJobsCommandInput>((input) => {
      const { summaries, ...page } = listPage(scheduler, 'callAnalytics', input, scheduler.callAnalyticsSummary);
      return { ...page, CallAnalyticsJobSummaries: summaries };
    }),
    DeleteCallAnalyticsJob: operation<DeleteCallAnalyticsJobCommandInput>((input) => {
      scheduler.deleteJob(input.CallAnalyticsJobName, 'callAnalytics');
      return {};
    }),
    StartMedicalTranscriptionJob: (input) => ({ MedicalTranscriptionJob: scheduler.describeMedical(scheduler.startJob('medical', input)) }),
    GetMedicalTranscriptionJob: operation<GetMedicalTranscriptionJobCommandInput>((input) => {
      return { MedicalTranscriptionJob: scheduler.describeMedical(scheduler.getJob('medical', input.MedicalTranscriptionJobName)) };
    }),
    ListMedicalTranscriptionJobs: operation<ListMedicalTranscriptionJobsCommandInput>((input) => {
      const { summaries, ...page } = listPage(scheduler, 'medical', input, scheduler.medicalSummary);
      return { ...page, MedicalTranscriptionJobSummaries: summaries };
    }),
    DeleteMedicalTranscriptionJob: operation<DeleteMedicalTranscriptionJobCommandInput>((input) => {
      scheduler.deleteJob(input.MedicalTranscriptionJobName, 'medical');
      return {};
    }),
    TagResource: operation<TagResourceCommandInput>((input) => {
      const job = scheduler.jobFromArn(input.ResourceArn);
      for (const tag of input.Tags ?? []) job.tags.set(tag.Key ?? '', tag.Value ?? '');
      if (job.tags.size > TAG_MAX_COUNT) throw new ServiceError('BadRequestException', `A resource can have at most ${TAG_MAX_COUNT} tags.`);
      return {};
    }),
    UntagResource: operation<UntagResourceCommandInput>((input) => {
      const job = scheduler.jobFromArn(input.ResourceArn);
      for (const key of input.TagKeys ?? []) job.tags.delete(key);
      return {};
    }),
    ListTagsForResource: operation<ListTagsForResourceCommandInput>((input) => {
      const job = scheduler.jobFromArn(input.ResourceArn);
      return { ResourceArn: input.ResourceArn, Tags: [...job.tags].map(([Key, Value]) => ({ Key, Value })) };
    }),
  };
}

export async function startWireServer(operations: Record<string, (input: Record<string, unknown>) => unknown>): Promise<{ endpoint: string; server: Server }> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('Transcribe.') ? operations[target.slice('Transcribe.'.length)] : undefined;
      const reply = (status: number, body: unknown, errorType?: string) => {
        const text = serialize(body);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'content-length': Buffer.byteLength(text),
          'x-amzn-requestid': crypto.randomUUID(),
          ...(errorType && { 'x-amzn-errortype': errorType }),
        });
        res.end(text);
      };
      try {
        if (!operation) throw new ServiceError('UnknownOperationException', `The local Transcribe emulator does not implement ${target || 'this request'}.`);
        reply(200, operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>));
      } catch (error) {
        const serviceError = error instanceof ServiceError ? error : new ServiceError('SerializationException', String(error));
        reply(serviceError.status, { __type: serviceError.code, Message: serviceError.message }, serviceError.code);
      }
    });
  });
  return { endpoint: await listenOnLoopback(server), server };
}
