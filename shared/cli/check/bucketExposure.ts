/**
 * `tkp check`'s "input bucket exposure" and "transcript bucket exposure" rows: whether anyone
 * outside the account may read the recordings or the transcripts. DataExposureRule pages when a
 * bucket's policy, public access block, ACL or replication changes; these rows see the state,
 * whoever changed it and whenever. A bucket is judged as the stack makes its own:
 * - its public access block has all four settings on (the account's own block is not read);
 * - ACLs are disabled (BucketOwnerEnforced): otherwise any object's ACL may grant another account
 *   read, which no bucket setting shows, and the bucket's ACL grants nobody but its owner;
 * - its policy lets no principal of another account, no service and not the public read an
 *   object or list the keys. Each is probed as one request through the same evaluation as the
 *   other policy rows: the public as a principal of an account that is not this one, and each
 *   principal an Allow names outside the account as itself, at the keys its Resource names;
 * - a replication rule whose destination is another account's copies everything there. One to a
 *   bucket of the account is named in the row's detail, and that bucket is not read.
 * Access points and the objects' own ACLs on a bucket whose ACLs are disabled are not read.
 */
import { ACLS_DISABLED, BUCKET_ACCESS } from '../../stack/stackResources';
import { PUT_BACK_README, STACK_ROW, type CheckRow } from './checkRow';
import { allowsRequest, list, namesAction, namesEveryone, principalContext, unevaluatedNote, type PolicyStatement } from './policyStatement';

/** The four settings of a public access block, all of which the stack turns on (BUCKET_ACCESS). */
export const PUBLIC_ACCESS_SETTINGS = Object.keys(BUCKET_ACCESS.PublicAccessBlockConfiguration) as (keyof typeof BUCKET_ACCESS.PublicAccessBlockConfiguration)[];

/** One replication rule, as GetBucketReplication tells it. */
export interface ReplicationRuleFacts {
  id?: string;
  enabled: boolean;
  /** The destination bucket's ARN. */
  destination: string;
  /** The destination's account, when the rule names one (it does when it hands the copies' ownership over). */
  destinationAccount?: string;
}

/** What decides who may read a bucket. */
export interface BucketExposureFacts {
  /** The settings of its own public access block that are on; null when it has none. */
  publicAccessBlock: (typeof PUBLIC_ACCESS_SETTINGS)[number][] | null;
  /** Its ObjectOwnership; undefined when it has no ownership controls, which leaves ACLs on. */
  objectOwnership?: string;
  /** Its ACL's grants to anyone but its owner (read only while ACLs are on). */
  aclGrants: { grantee: string; permission: string }[];
  /** Its policy's statements; null when it has none. */
  policy: PolicyStatement[] | null;
  replication: ReplicationRuleFacts[];
}

export type BucketExposureAnswer = BucketExposureFacts | { error: string };

export interface ExposureScope {
  check: 'input bucket exposure' | 'transcript bucket exposure';
  bucket: string;
  /** What it holds, as the row says it: "the recordings", "the transcripts". */
  holds: string;
  partition: string;
  account: string;
}

/** The reads that expose what a bucket holds: an object, an old version of one, the list of keys. */
const OBJECT_READS = ['s3:GetObject', 's3:GetObjectVersion'];
const LIST_READS = ['s3:ListBucket', 's3:ListBucketVersions'];

/** The account of an AWS principal as a policy names it: an account ID, or an ARN. */
const accountOf = (principal: string) => (/^\d{12}$/.test(principal) ? principal : principal.split(':')[4]);

/** An account that is not the caller's, for the probe that stands for the public. */
const strangerAccount = (account: string) => (account === '999999999999' ? '999999999998' : '999999999999');

/** One principal the policy is asked about: who, and the request context it carries. */
interface Reader {
  principal: string;
  who: string;
  context: Record<string, string | undefined>;
}

/**
 * The principals to probe: the public, each principal of another account an Allow names, and each
 * service an Allow names. A service principal's request carries no principal ARN.
 */
function readersOf(statements: readonly PolicyStatement[], scope: ExposureScope): Reader[] {
  const stranger = `arn:${scope.partition}:iam::${strangerAccount(scope.account)}:root`;
  const readers: Reader[] = [{ principal: stranger, who: 'anyone outside the account (the public)', context: principalContext(stranger) }];
  for (const statement of statements) {
    if (statement.Effect !== 'Allow' || typeof statement.Principal !== 'object' || statement.Principal === null) continue;
    const { AWS, Service } = statement.Principal as { AWS?: unknown; Service?: unknown };
    for (const principal of list(AWS)) {
      const account = accountOf(principal);
      if (principal === '*' || account === undefined || account === scope.account || readers.some((r) => r.principal === principal)) continue;
      const context = principal.startsWith('arn:') ? principalContext(principal) : { 'aws:principalaccount': principal, 'aws:securetransport': 'true' };
      readers.push({ principal, who: `account ${account} (${principal})`, context });
    }
    for (const service of list(Service)) {
      if (readers.some((r) => r.principal === service)) continue;
      readers.push({ principal: service, who: `the service ${service}`, context: { 'aws:principalarn': undefined, 'aws:securetransport': 'true' } });
    }
  }
  return readers;
}

/**
 * The keys to probe, each with how a finding names it: one anywhere in the bucket, and one under
 * each object Resource an Allow names in it (its wildcards filled in), named by what precedes them.
 */
function probeKeys(statements: readonly PolicyStatement[], scope: ExposureScope): { key: string; where: string }[] {
  const objects = `arn:${scope.partition}:s3:::${scope.bucket}/`;
  const keys = new Map([['tkp-check-probe.wav', 'on any object']]);
  for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
    for (const pattern of list(statement.Resource).filter((r) => r.startsWith(objects))) {
      const named = pattern.slice(objects.length);
      const fixed = named.split(/[*?]/)[0] ?? '';
      if (fixed === '') continue;
      keys.set(named.replace(/[*?]/g, 'x'), fixed === named ? `on the object ${JSON.stringify(named)}` : `under ${JSON.stringify(fixed)}`);
    }
  }
  return [...keys].map(([key, where]) => ({ key, where }));
}

/**
 * What each reader may read, by the policy alone: findings, each naming who and what, and the
 * condition a read turns on where this does not evaluate it. Each Allow is asked alone (with every
 * Deny), so a grant is named even beside another that turns on a condition; a principal the policy
 * names is asked only of the statements that name it, those for everyone being the public's.
 */
function policyReaders(statements: readonly PolicyStatement[], scope: ExposureScope): string[] {
  const bucketArn = `arn:${scope.partition}:s3:::${scope.bucket}`;
  const requests = [
    ...probeKeys(statements, scope).flatMap(({ key, where }) => OBJECT_READS.map((action) => ({ action, resource: `${bucketArn}/${key}`, what: `${action} ${where}` }))),
    ...LIST_READS.map((action) => ({ action, resource: bucketArn, what: action })),
  ];
  const denies = statements.filter((statement) => statement.Effect === 'Deny');
  const allows = statements.filter((statement) => statement.Effect === 'Allow');
  const findings: string[] = [];
  for (const [index, reader] of readersOf(statements, scope).entries()) {
    // Keyed by the condition a read turns on, '' where it turns on none.
    const reads = new Map<string, string[]>();
    for (const allow of allows.filter((statement) => index === 0 || !namesEveryone(statement.Principal))) {
      for (const { action, resource, what } of requests) {
        const allowed = allowsRequest([...denies, allow], { principal: reader.principal, action, resource, context: reader.context });
        if (allowed === false) continue;
        const on = typeof allowed === 'string' ? allowed : '';
        const found = reads.get(on) ?? [];
        if (!found.includes(what) && !reads.get('')?.includes(what)) reads.set(on, [...found, what]);
      }
    }
    const parts = [...reads]
      .filter(([, what]) => what.length > 0)
      .sort(([a], [b]) => a.length - b.length)
      // A read of any object says it all for its action.
      .map(([on, what]) => [on, what.filter((w) => w.endsWith(' on any object') || !what.includes(`${w.split(' ')[0]} on any object`))] as const)
      .map(([on, what]) => `may read ${scope.holds} (${what.join(', ')})${on ? ` where ${on}, which tkp check does not evaluate: check that statement by hand` : ''}`);
    if (parts.length > 0) findings.push(`by the bucket policy, ${reader.who} ${parts.join(', and ')}`);
  }
  // Principals no ARN stands for, probed by statement: a canonical user (a CloudFront origin
  // access identity, or another account by its canonical ID) and a web identity (Federated).
  const kinds = [
    { field: 'CanonicalUser', who: (ids: string[]) => `the canonical user ${ids.join(', ')} (a CloudFront origin access identity, or another account)` },
    { field: 'Federated', who: (ids: string[]) => `whoever signs in through ${ids.join(', ')} (web identity federation)` },
  ] as const;
  for (const statement of statements) {
    const principal = statement.Effect === 'Allow' && typeof statement.Principal === 'object' && statement.Principal !== null ? (statement.Principal as Record<string, unknown>) : {};
    for (const { field, who } of kinds) {
      const ids = list(principal[field]);
      if (ids.length === 0) continue;
      const reads = [...OBJECT_READS, ...LIST_READS].filter((action) => namesAction(statement, action));
      if (reads.length > 0) findings.push(`the bucket policy's ${statement.Sid ? `statement ${JSON.stringify(statement.Sid)}` : 'statement'} lets ${who(ids)} read ${scope.holds} (${reads.join(', ')})${unevaluatedNote(Object.values(statement.Condition ?? {}).flatMap((entries) => Object.keys(entries)))}`);
    }
  }
  return findings;
}

export function bucketExposureRow(answer: BucketExposureAnswer, scope: ExposureScope): CheckRow {
  const row = { rule: STACK_ROW, check: scope.check };
  const { bucket } = scope;
  if ('error' in answer) {
    return {
      ...row,
      ok: false,
      detail:
        `who may read s3://${bucket} cannot be read (${answer.error}); the caller needs s3:GetBucketPublicAccessBlock, s3:GetBucketOwnershipControls, s3:GetBucketAcl, ` +
        `s3:GetBucketPolicy and s3:GetReplicationConfiguration on it to tell whether ${scope.holds} are open to others`,
    };
  }
  const problems: string[] = [];
  const off = PUBLIC_ACCESS_SETTINGS.filter((setting) => !answer.publicAccessBlock?.includes(setting));
  if (off.length > 0) {
    problems.push(
      `${answer.publicAccessBlock ? `its public access block has ${off.join(', ')} off` : 'it has no public access block'}, so a public policy or ACL may open ${scope.holds} to anyone ` +
        `(aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration ${PUBLIC_ACCESS_SETTINGS.map((s) => `${s}=true`).join(',')})`,
    );
  }
  if (answer.objectOwnership !== ACLS_DISABLED) {
    problems.push(
      `its ACLs are on (object ownership ${answer.objectOwnership ?? 'not set'}), so any object's own ACL may grant another account read, which no bucket setting shows ` +
        `(aws s3api put-bucket-ownership-controls --bucket ${bucket} --ownership-controls 'Rules=[{ObjectOwnership=${ACLS_DISABLED}}]')`,
    );
    if (answer.aclGrants.length > 0) problems.push(`its ACL grants ${answer.aclGrants.map((g) => `${g.permission} to ${g.grantee}`).join(', ')} (aws s3api put-bucket-acl --bucket ${bucket} --acl private)`);
  }
  problems.push(...policyReaders(answer.policy ?? [], scope));
  const enabled = answer.replication.filter((rule) => rule.enabled);
  const rulesName = (rule: ReplicationRuleFacts) => `replication rule ${JSON.stringify(rule.id ?? '(no ID)')}`;
  for (const rule of enabled.filter((r) => r.destinationAccount !== undefined && r.destinationAccount !== scope.account)) {
    problems.push(`${rulesName(rule)} copies ${scope.holds} to ${rule.destination} in account ${rule.destinationAccount} (aws s3api delete-bucket-replication --bucket ${bucket}, or put-bucket-replication without that rule)`);
  }
  const sameAccount = enabled.filter((r) => r.destinationAccount === undefined || r.destinationAccount === scope.account);
  const copies = sameAccount.length > 0 ? `; ${sameAccount.map((rule) => `${rulesName(rule)} copies them to ${rule.destination}`).join(', ')}, whose readers tkp check does not read` : '';
  if (problems.length === 0) {
    return {
      ...row,
      ok: true,
      detail: `s3://${bucket}: nobody outside account ${scope.account} may read ${scope.holds}: public access blocked (all four settings), ACLs disabled, and the policy lets no other account, service or the public read${copies}`,
    };
  }
  return {
    ...row,
    ok: false,
    detail:
      `s3://${bucket}: ${problems.join('; ')}${copies}. Put the bucket back as the stack defines it, which a redeploy does not do (${PUT_BACK_README}), ` +
      'then find what was read or copied meanwhile (a replication rule\'s destination; S3 server access logs or CloudTrail data events, where on)',
  };
}
