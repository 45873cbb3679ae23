/**
 * A small Amazon Transcribe batch service for one machine. It speaks the service's JSON wire
 * protocol, so the SDK reaches it through AWS_ENDPOINT_URL_TRANSCRIBE, and it does what the
 * pipeline relies on, for transcription, Call Analytics and medical jobs: validation, names,
 * quotas, job states, encrypted outputs in S3 (moto) and the completion events on EventBridge
 * (moto; none for medical jobs, as on AWS). It does not recognise speech. The parts:
 * emulatorModel.ts (types), jobScheduler.ts, outputWriter.ts and wireServer.ts.
 */
import { DEFAULT_QUOTAS, DEFAULT_TIMING, type EmulatorFaults, type EmulatorOptions, type Later, type TranscribeEmulator } from './emulatorModel';
import { createJobScheduler } from './jobScheduler';
import { createOutputWriter } from './outputWriter';
import { startWireServer, transcribeOperations } from './wireServer';

export async function startTranscribeEmulator(options: EmulatorOptions): Promise<TranscribeEmulator> {
  const timeScale = options.timeScale ?? 1;
  const quotas = { ...DEFAULT_QUOTAS, ...options.quotas };
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  let faults: EmulatorFaults = options.faults ?? {};
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const later: Later = (serviceSeconds, fn) => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, (serviceSeconds * 1000) / timeScale);
    timers.add(timer);
  };

  const writer = createOutputWriter(options, timing, later, () => faults);
  const scheduler = createJobScheduler(options, quotas, timing.queuedSeconds, later, () => faults, writer.writeOutputs, () => closed);
  const { endpoint, server } = await startWireServer(transcribeOperations(scheduler));

  return {
    endpoint,
    stats: scheduler.stats,
    jobs: () =>
      [...scheduler.jobs.values()].map((j) => ({
        jobType: j.jobType,
        name: j.name,
        status: j.status,
        mediaUri: j.spec.mediaUri,
        ...(j.spec.kmsKeyId && { outputKmsKeyId: j.spec.kmsKeyId }),
        ...(j.failureReason && { failureReason: j.failureReason }),
      })),
    deletedJobs: () => scheduler.deleted.map((j) => ({ jobType: j.jobType, name: j.name, mediaUri: j.spec.mediaUri })),
    idle: scheduler.idle,
    tamperedJob: writer.tamperedJob,
    setFaults: (next) => {
      faults = next;
      writer.resetTamper();
    },
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
