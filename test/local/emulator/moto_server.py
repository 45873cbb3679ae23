"""moto's server, with one performance patch for long queues and one fidelity patch for S3 events.

S3 events: S3 puts the object's `versionId` in the event record of a versioned bucket; moto
leaves it out. The job name hashes the version, so without it the local mode would name jobs
by ETag where AWS names them by version, and `tkp backfill` (which sends what S3 sends) would
look like a different upload.

Queues: moto recounts every message of a queue (ApproximateNumberOfMessages and its two siblings) each
time it builds the queue's attributes, which SendMessage does on every call. With a backlog of
10,000 messages that makes each S3 upload that notifies the queue slow down linearly. The three
counts are approximate in AWS too; here each is recomputed at most once a second per queue.
Nothing else about moto changes.
"""
import sys
import time

from moto.s3 import notifications
from moto.sqs import models

_s3_event = notifications._get_s3_event


def _s3_event_with_version(event_name, bucket, key, notification_id):
    event = _s3_event(event_name, bucket, key, notification_id)
    version = getattr(key, "version_id", None)
    if bucket.is_versioned and version and version != "null":
        event["Records"][0]["s3"]["object"]["versionId"] = version
    return event


notifications._get_s3_event = _s3_event_with_version

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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
