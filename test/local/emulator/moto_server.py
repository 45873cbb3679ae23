"""moto's server, with one performance patch for long queues and six fidelity patches, for S3
events, bucket policies, deletes from a queue, Lambda triggers, EventBridge targets and queue
policies.

S3 events: S3 puts the object's `versionId` in the event record of a versioned bucket; moto
leaves it out. The job name hashes the version, so without it the local mode would name jobs
by ETag where AWS names them by version, and `tkp backfill` (which sends what S3 sends) would
look like a different upload.

Bucket policies: moto refuses a PutObject, GetObject or DeleteObject that a bucket policy's Deny
covers, but evaluates the Deny's conditions without the request's values, so a Deny that spares
the stack's roles by `aws:PrincipalArn` (the transcript bucket's) refuses every write. The local
mode has one identity and does not enforce the stack's policies, as with its roles: here a Deny
with conditions is left out when moto decides. `tkp check` still reads the whole policy.

Queues: moto recounts every message of a queue (ApproximateNumberOfMessages and its two siblings) each
time it builds the queue's attributes, which SendMessage does on every call. With a backlog of
10,000 messages that makes each S3 upload that notifies the queue slow down linearly. The three
counts are approximate in AWS too; here each is recomputed at most once a second per queue.

Deletes: moto deletes a message by rebuilding the queue's message list without a lock, so two
deletes at once can each start from the same list, and the later one puts back the message the
earlier one deleted: it returns after its visibility timeout (six minutes for the start queue at
real time) as a duplicate, and a message sent meanwhile can be lost. A delete here holds the
queue's own lock, as a send does.

Lambda triggers: moto fires a queue's Lambda trigger itself on every SendMessage, receiving the
messages and invoking the function (in docker). The local mode runs the functions itself, and
holds the start function in moto only for `tkp check` to read, so a queue's triggers are kept,
listed and changed as Lambda's calls ask, and never fired.

EventBridge targets: moto delivers a matched event to a queue, a log group or another bus, and
raises NotImplementedError for an SNS topic or a Lambda function, which fails the whole PutEvents.
The local stack's rules have the targets the deployed stack's have (so that `tkp check` can
tell a rule that sends nowhere): here an SNS target publishes the event to the topic, as
EventBridge does, and a Lambda target is skipped, because the local mode runs the functions
itself. Every other target goes to moto as before.

Queue policies: moto sets a queue's policy to whatever a SetQueueAttributes names, so a call that
names only another attribute (a retention, a redrive, a KMS key) removes the policy, which SQS
keeps. `tkp check` would then report the policy gone after a retention change. Here a call that
does not name the policy leaves it as it was.

Nothing else about moto changes.
"""
import copy
import json
import sys
import time

from moto.events import models as events_models
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3 import models as s3_models
from moto.s3 import notifications
from moto.sns.models import sns_backends
from moto.sqs import models
from moto.utilities.arns import parse_arn

_s3_event = notifications._get_s3_event


def _s3_event_with_version(event_name, bucket, key, notification_id):
    event = _s3_event(event_name, bucket, key, notification_id)
    version = getattr(key, "version_id", None)
    if bucket.is_versioned and version and version != "null":
        event["Records"][0]["s3"]["object"]["versionId"] = version
    return event


notifications._get_s3_event = _s3_event_with_version

def _permission_without_conditional_denies(self, action, resource):
    if self.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(self.policy.decode())
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = [statement for statement in statements if not (statement.get("Effect") == "Deny" and statement.get("Condition"))]
    return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(action, resource)


s3_models.FakeBucket.get_permission = _permission_without_conditional_denies

COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_not_visible",
    "approximate_number_of_messages_delayed",
)


def _cached(name):
    original = getattr(models.Queue, name).fget

    def getter(self):
        cache = self.__dict__.setdefault("_tkp_counts", {})
        now = time.monotonic()
        hit = cache.get(name)
        if hit is not None and now - hit[0] < 1.0:
            return hit[1]
        value = original(self)
        cache[name] = (now, value)
        return value

    return property(getter)


for _name in COUNTS:
    setattr(models.Queue, _name, _cached(_name))

_delete_message = models.Queue.delete_message


def _delete_message_locked(self, receipt_handle):
    with self._messages_lock:
        return _delete_message(self, receipt_handle)


models.Queue.delete_message = _delete_message_locked


class _HeldTriggers(dict):
    """A queue's Lambda triggers, kept for Lambda's own calls to list and change, never fired."""

    def items(self):
        return iter(())


_queue_init = models.Queue.__init__


def _queue_init_with_held_triggers(self, *args, **kwargs):
    _queue_init(self, *args, **kwargs)
    self.lambda_event_source_mappings = _HeldTriggers()


models.Queue.__init__ = _queue_init_with_held_triggers

_send_to_targets = events_models.Rule.send_to_targets


def _send_to_targets_with_sns(self, original_event, transform_input=True):
    services = [(target, parse_arn(target["Arn"])) for target in self.targets]
    if not any(arn.service in ("sns", "lambda") for _, arn in services):
        return _send_to_targets(self, original_event, transform_input)
    if not self.event_pattern.matches_event(original_event):
        return None
    for target, arn in services:
        if arn.service == "sns":
            transformer = target.get("InputTransformer", {})
            event = events_models.EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=original_event,
            )
            message = event if isinstance(event, str) else json.dumps(event)
            try:
                sns_backends[arn.account][arn.region].get_topic(target["Arn"]).publish(message)
            except Exception:  # noqa: BLE001 - a failed delivery does not fail PutEvents in AWS either
                pass
    others = [target for target, arn in services if arn.service not in ("sns", "lambda")]
    if not others:
        return None
    # The rest, on a copy: the rule itself is shared with concurrent requests.
    rest = copy.copy(self)
    rest.targets = others
    return _send_to_targets(rest, original_event, transform_input)


events_models.Rule.send_to_targets = _send_to_targets_with_sns

_queue_set_attributes = models.Queue._set_attributes


def _set_attributes_keeping_policy(self, attributes, now=None):
    policy = getattr(self, "policy", None)
    _queue_set_attributes(self, attributes, now)
    if "Policy" not in attributes:
        self.policy = policy


models.Queue._set_attributes = _set_attributes_keeping_policy

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
