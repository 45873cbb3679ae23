import { describe, expect, it, vi } from 'vitest';
import { pacedStart } from '../../../shared/start/startAdapters';

const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const INPUT = { TranscriptionJobName: 'tkp.t.a', Media: { MediaFileUri: 's3://in/a.wav' } };

describe('pacedStart: every StartTranscriptionJob attempt passes the pacer', () => {
  it('waits for the pacer before each attempt, retries included', async () => {
    const order: string[] = [];
    const pace = vi.fn(async () => void order.push('pace'));
    const send = vi
      .fn()
      .mockImplementationOnce(async () => {
        order.push('send');
        throw awsError('InternalFailureException', 500);
      })
      .mockImplementationOnce(async () => void order.push('send'));
    await pacedStart(pace, send)(INPUT);
    expect(order).toEqual(['pace', 'send', 'pace', 'send']);
  });

  it('sends a quota answer back at once, for the queue to redeliver with its delay', async () => {
    const pace = vi.fn(async () => undefined);
    const send = vi.fn(async () => {
      throw awsError('LimitExceededException', 400);
    });
    await expect(pacedStart(pace, send)(INPUT)).rejects.toMatchObject({ name: 'LimitExceededException' });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('does not retry a request Transcribe rejects, and stops after the last attempt on faults', async () => {
    const rejected = vi.fn(async () => {
      throw awsError('BadRequestException', 400);
    });
    await expect(pacedStart(async () => undefined, rejected)(INPUT)).rejects.toMatchObject({ name: 'BadRequestException' });
    expect(rejected).toHaveBeenCalledTimes(1);
    const failing = vi.fn(async () => {
      throw awsError('InternalFailureException', 500);
    });
    const pace = vi.fn(async () => undefined);
    await expect(pacedStart(pace, failing, 3)(INPUT)).rejects.toMatchObject({ name: 'InternalFailureException' });
    expect(failing).toHaveBeenCalledTimes(3);
    expect(pace).toHaveBeenCalledTimes(3);
  });
});
