/** The environment serverless.yml gives the functions, with test values. */
export const HANDLER_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  JOB_NAME_PREFIX: 'tkp.test.',
  INPUT_BUCKET: 'tkp-dev-input-123456789012-us-east-1',
  TRANSCRIPT_BUCKET: 'tkp-test-transcripts',
  START_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/start',
  START_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/start-dlq',
  START_RATE_PER_SECOND: '0',
  MAX_RECEIVE_COUNT: '5',
  OUTCOME_BUS_NAME: 'tkp-test-outcomes',
  OUTCOME_EVENT_SOURCE: 'transcribe-kms-pipeline',
  MISSING_TRANSCRIPT_RETRIES: '1',
  MISSING_TRANSCRIPT_RETRY_DELAY_MS: '1',
  SWEEP_LOOKBACK_SECONDS: '3600',
  SWEEP_GRACE_SECONDS: '60',
  PREFLIGHT_ROLE_ARN: 'arn:aws:iam::123456789012:role/transcribe-kms-pipeline-dev-us-east-1-start',
  // The bundled config has a Call Analytics rule, so the stack creates the data access role.
  DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/transcribe-kms-pipeline-dev-us-east-1-transcribe-data',
  SWEEP_RETRY_DELAY_MS: '1',
};
