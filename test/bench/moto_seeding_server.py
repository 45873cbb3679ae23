"""moto's server as the local mode runs it (test/local/emulator/moto_server.py, with its patches),
plus one route that only the audit bench uses: POST /tkp-bench/put-objects stores a batch of
objects in moto's S3 backend with the same call a PutObject request makes.

Why: the audit bench needs 10,000 stored transcripts and as many rule markers. Sent as 20,000
PutObject requests, seeding took 75-150 s of the whole bench (moto answers about 130-300 puts a
second here), though it measures nothing. Stored here, the same objects take a few seconds.

The body is JSON: {"account": "123456789012", "objects": [{"bucket", "key", "body",
"encryption", "kmsKeyId"}, ...]}, `encryption` and `kmsKeyId` as PutObject's
x-amz-server-side-encryption headers would give them (either may be null), and an optional
"contentType", else application/octet-stream, which the SDK sends for a body it has no type for. An object stored here
answers HeadObject as one sent by PutObject does; test/bench/seededObjects.test.ts checks it.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "local", "emulator"))

import moto_server  # noqa: E402,F401  (applies the local mode's patches)
import moto.server  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402

ROUTE = "/tkp-bench/put-objects"


def _store(spec):
    backend = s3_backends[spec["account"]]["aws"]
    for item in spec["objects"]:
        bucket = backend.get_bucket(item["bucket"])
        key = backend.put_object(
            item["bucket"],
            item["key"],
            item["body"].encode("utf-8"),
            encryption=item.get("encryption"),
            kms_key_id=item.get("kmsKeyId"),
        )
        key.set_metadata({"Content-Type": item.get("contentType", "application/octet-stream")})
        key.set_acl(bucket.acl)
    return len(spec["objects"])


def _put_objects(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        status, answer = "200 OK", {"stored": _store(json.loads(environ["wsgi.input"].read(length)))}
    except Exception as error:  # the bench prints it: a missing bucket, a malformed batch
        status, answer = "400 Bad Request", {"error": f"{type(error).__name__}: {error}"}
    body = json.dumps(answer).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _WithSeedRoute(moto.server.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == ROUTE and environ.get("REQUEST_METHOD") == "POST":
            return _put_objects(environ, start_response)
        return super().__call__(environ, start_response)


moto.server.DomainDispatcherApplication = _WithSeedRoute

if __name__ == "__main__":
    moto.server.main(sys.argv[1:])
