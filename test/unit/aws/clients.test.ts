import { describe, expect, it } from 'vitest';
import { s3ForcePathStyle } from '../../../shared/aws/clients';

describe('client settings', () => {
  it('uses path-style S3 addressing whenever an emulator endpoint is set, unless told otherwise', () => {
    expect(s3ForcePathStyle({})).toBe(false);
    expect(s3ForcePathStyle({ AWS_ENDPOINT_URL: 'http://localhost:4566' })).toBe(true);
    expect(s3ForcePathStyle({ AWS_ENDPOINT_URL_S3: 'http://localhost:5000' })).toBe(true);
    expect(s3ForcePathStyle({ AWS_ENDPOINT_URL: 'http://localhost:4566', S3_FORCE_PATH_STYLE: 'false' })).toBe(false);
  });
});
