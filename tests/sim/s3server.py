#!/usr/bin/env python3
"""A small S3-compatible server for booktape-backup's tests, on loopback.

It implements PUT/GET/HEAD/DELETE of objects and ListObjectsV2, and it
VERIFIES every request's AWS SigV4 signature by recomputing it with
botocore's signer (botocore.auth.S3SigV4Auth), independently of our C
code and of libcurl. It also checks x-amz-content-sha256 against the body
(and Content-MD5 when sent), the credential scope, the clock skew, and
that query strings are in canonical form (sorted, AWS URI-encoded).

Objects are plain files under ROOT/<bucket>/<key>, so a test can corrupt
one by flipping a byte.

usage: s3server.py --root DIR --port-file F --bucket NAME
                   --access-key AK --secret-key SK [--region R]
                   [--page-size N] [--fail-first N] [--log FILE]
       s3server.py --selftest     AWS's published SigV4 examples

Not checked (see backup/README-section.md): TLS, virtual-host DNS names,
aws-chunked streaming payloads, presigned URLs, multipart uploads, ACLs,
bucket policies, versioning, session tokens, SigV4A, storage classes.
"""
import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,"
    r"\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$")
UNRESERVED = re.compile(r"^(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})*$")


class SigError(Exception):
    def __init__(self, status, code, msg):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def aws_quote(s):
    return urllib.parse.quote(s, safe="-_.~")


def check_query_canonical(query):
    """The query string must be exactly what AWS would canonicalize."""
    if not query:
        return
    pairs = [p.partition("=") for p in query.split("&")]
    for k, eq, v in pairs:
        if not eq or not UNRESERVED.match(k) or not UNRESERVED.match(v):
            raise SigError(400, "InvalidQuery",
                           "query parameter %r is not AWS URI-encoded" % k)
        if aws_quote(urllib.parse.unquote(v)) != v:
            raise SigError(400, "InvalidQuery",
                           "query value of %r is not canonically encoded" % k)
    keys = [(k, v) for k, _, v in pairs]
    if keys != sorted(keys):
        raise SigError(400, "InvalidQuery",
                       "query parameters are not sorted: %s" % query)


def expected_signature(method, host, path, query, headers, signed, payload,
                       secret, access, region, amz_date):
    """Recompute the signature with botocore from the request as received."""
    url = "http://%s%s%s" % (host, path, "?" + query if query else "")
    hdrs = {}
    for name in signed:
        if name not in headers:
            raise SigError(403, "AccessDenied",
                           "signed header %r missing" % name)
        hdrs[name] = headers[name]
    req = AWSRequest(method=method, url=url, headers=hdrs, data=b"")
    req.context["timestamp"] = amz_date
    auth = S3SigV4Auth(Credentials(access, secret), "s3", region)
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    return auth.signature(sts, req), creq


def verify(method, host, path, query, headers, body, secret, access, region,
           now=None, skew=900):
    """Raise SigError unless the request is correctly signed."""
    m = AUTH_RE.match(headers.get("authorization", ""))
    if not m:
        raise SigError(403, "AccessDenied", "missing or malformed SigV4 "
                       "Authorization header")
    akey, day, reg, signed, sig = m.groups()
    if akey != access:
        raise SigError(403, "InvalidAccessKeyId", "unknown access key")
    if reg != region:
        raise SigError(400, "AuthorizationHeaderMalformed",
                       "region %r, expected %r" % (reg, region))
    amz_date = headers.get("x-amz-date", "")
    if not re.match(r"^\d{8}T\d{6}Z$", amz_date) or amz_date[:8] != day:
        raise SigError(403, "AccessDenied", "bad x-amz-date %r" % amz_date)
    if now is not None:
        t = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=dt.timezone.utc)
        if abs((now - t).total_seconds()) > skew:
            raise SigError(403, "RequestTimeTooSkewed", "clock skew")
    signed_list = signed.split(";")
    if "host" not in signed_list or "x-amz-date" not in signed_list:
        raise SigError(403, "AccessDenied", "host/x-amz-date not signed")
    if "x-amz-content-sha256" not in signed_list:
        raise SigError(400, "InvalidRequest",
                       "x-amz-content-sha256 must be signed")
    check_query_canonical(query)
    want, creq = expected_signature(method, host, path, query, headers,
                                    signed_list, body, secret, access,
                                    region, amz_date)
    if want != sig:
        raise SigError(403, "SignatureDoesNotMatch",
                       "signature mismatch; canonical request was:\n" + creq)
    content_sha = headers.get("x-amz-content-sha256", "")
    if content_sha != hashlib.sha256(body).hexdigest():
        raise SigError(400, "XAmzContentSHA256Mismatch",
                       "x-amz-content-sha256 does not match the body")
    if "content-md5" in headers:
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        if headers["content-md5"] != md5:
            raise SigError(400, "BadDigest", "Content-MD5 mismatch")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0
        self.log = open(args.log, "a") if args.log else None

    def note(self, line):
        if self.log:
            with self.lock:
                self.log.write(line + "\n")
                self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "booktape-s3test"

    def log_message(self, fmt, *a):
        self.server.state.note(fmt % a)

    # -- plumbing
    def reply(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def error(self, status, code, msg, head=False):
        self.server.state.note("ERROR %d %s %s" % (status, code, msg))
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
                "</Code><Message>%s</Message></Error>" %
                (code, escape(msg))).encode()
        self.reply(status, body, {"Content-Type": "application/xml"},
                   head=head)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        if self.headers.get("Transfer-Encoding"):
            raise SigError(400, "NotImplemented", "chunked bodies unsupported")
        return self.rfile.read(n) if n > 0 else b""

    def split(self):
        st = self.server.state
        parts = urllib.parse.urlsplit(self.path)
        path, query = parts.path, parts.query
        host = self.headers.get("Host", "")
        bucket = st.args.bucket
        if host.split(":")[0].startswith(bucket + "."):
            key = path[1:]                      # virtual-host style
        elif path == "/" + bucket or path.startswith("/" + bucket + "/"):
            key = path[len(bucket) + 2:]        # path style
        else:
            raise SigError(404, "NoSuchBucket", "no such bucket")
        return host, path, query, key

    def handle_any(self, method):
        st = self.server.state
        head = method == "HEAD"
        try:
            body = self.read_body()
            with st.lock:
                st.requests += 1
                n = st.requests
            if n <= st.args.fail_first:
                raise SigError(503, "SlowDown", "injected failure %d" % n)
            host, path, query, key = self.split()
            hdrs = {k.lower(): v.strip() for k, v in self.headers.items()}
            verify(method, host, path, query, hdrs, body,
                   st.args.secret_key, st.args.access_key, st.args.region,
                   now=dt.datetime.now(dt.timezone.utc))
            if ".." in key.split("/") or key.startswith("/"):
                raise SigError(400, "InvalidKey", "bad key")
            getattr(self, "op_" + method.lower())(key, query, body, hdrs)
        except SigError as e:
            self.error(e.status, e.code, e.msg, head=head)

    def do_PUT(self):
        self.handle_any("PUT")

    def do_GET(self):
        self.handle_any("GET")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def do_DELETE(self):
        self.handle_any("DELETE")

    # -- operations
    def obj_path(self, key):
        return os.path.join(self.server.state.args.root,
                            self.server.state.args.bucket, key)

    def meta_path(self, key):
        return os.path.join(self.server.state.args.root, ".meta",
                            self.server.state.args.bucket, key + ".json")

    def op_put(self, key, query, body, hdrs):
        if not key or query:
            raise SigError(400, "InvalidRequest", "PUT needs a key, no query")
        p, mp = self.obj_path(key), self.meta_path(key)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.makedirs(os.path.dirname(mp), exist_ok=True)
        tmp = "%s.upload.%d" % (p, threading.get_ident())
        with open(tmp, "wb") as f:
            f.write(body)
        meta = {k: v for k, v in hdrs.items() if k.startswith("x-amz-meta-")}
        with open(mp, "w") as f:
            json.dump(meta, f)
        os.replace(tmp, p)
        etag = '"%s"' % hashlib.md5(body).hexdigest()
        self.reply(200, b"", {"ETag": etag})

    def stored(self, key):
        p = self.obj_path(key)
        if not key or not os.path.isfile(p):
            raise SigError(404, "NoSuchKey", "no such key")
        with open(p, "rb") as f:
            data = f.read()
        meta = {}
        if os.path.exists(self.meta_path(key)):
            with open(self.meta_path(key)) as f:
                meta = json.load(f)
        return data, meta

    def op_head(self, key, query, body, hdrs):
        data, meta = self.stored(key)
        h = dict(meta)
        h["ETag"] = '"%s"' % hashlib.md5(data).hexdigest()
        self.send_response(200)
        for k, v in h.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def op_get(self, key, query, body, hdrs):
        if key == "":
            return self.list_objects(query)
        data, meta = self.stored(key)
        self.reply(200, data, dict(meta))

    def op_delete(self, key, query, body, hdrs):
        for p in (self.obj_path(key), self.meta_path(key)):
            if os.path.exists(p):
                os.unlink(p)
        self.reply(204)

    def list_objects(self, query):
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if q.get("list-type") != "2":
            raise SigError(400, "InvalidRequest", "only ListObjectsV2")
        prefix = q.get("prefix", "")
        start = q.get("continuation-token", "")
        root = os.path.join(self.server.state.args.root,
                            self.server.state.args.bucket)
        keys = []
        for d, _, files in os.walk(root):
            for fn in files:
                if ".upload." in fn:
                    continue
                k = os.path.relpath(os.path.join(d, fn), root)
                if k.startswith(prefix) and k > start:
                    keys.append(k)
        keys.sort()
        page = keys[:self.server.state.args.page_size]
        truncated = len(keys) > len(page)
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/'
               '2006-03-01/">',
               "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>" %
               (escape(self.server.state.args.bucket), escape(prefix),
                len(page)),
               "<IsTruncated>%s</IsTruncated>" % str(truncated).lower()]
        if truncated:
            out.append("<NextContinuationToken>%s</NextContinuationToken>" %
                       escape(page[-1]))
        for k in page:
            size = os.path.getsize(os.path.join(root, k))
            out.append("<Contents><Key>%s</Key><Size>%d</Size>"
                       "<StorageClass>STANDARD</StorageClass></Contents>" %
                       (escape(k), size))
        out.append("</ListBucketResult>")
        self.reply(200, "\n".join(out).encode(),
                   {"Content-Type": "application/xml"})


# AWS "Signature Calculations for the Authorization Header: Transferring
# Payload in a Single Chunk" examples (S3 API reference, SigV4 examples),
# with the published example credentials and expected signatures.
EXAMPLE_AK = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMPTY = hashlib.sha256(b"").hexdigest()
EXAMPLES = [
    ("GET Object", "GET", "/test.txt", "",
     {"range": "bytes=0-9", "x-amz-content-sha256": EMPTY}, b"",
     "host;range;x-amz-content-sha256;x-amz-date",
     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ("PUT Object", "PUT", "/test%24file.text", "",
     {"date": "Fri, 24 May 2013 00:00:00 GMT",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256":
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
     b"Welcome to Amazon S3.",
     "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
    ("GET Bucket Lifecycle", "GET", "/", "lifecycle=",
     {"x-amz-content-sha256": EMPTY}, b"",
     "host;x-amz-content-sha256;x-amz-date",
     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    ("GET Bucket (List Objects)", "GET", "/", "max-keys=2&prefix=J",
     {"x-amz-content-sha256": EMPTY}, b"",
     "host;x-amz-content-sha256;x-amz-date",
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
]


def selftest():
    failed = 0
    for name, method, path, query, extra, body, signed, sig in EXAMPLES:
        h = {"host": "examplebucket.s3.amazonaws.com",
             "x-amz-date": "20130524T000000Z"}
        h.update(extra)
        h["authorization"] = (
            "AWS4-HMAC-SHA256 Credential=%s/20130524/us-east-1/s3/"
            "aws4_request,SignedHeaders=%s,Signature=%s" %
            (EXAMPLE_AK, signed, sig))
        try:
            verify(method, h["host"], path, query, h, body, EXAMPLE_SK,
                   EXAMPLE_AK, "us-east-1")
            print("ok: AWS example %s" % name)
        except SigError as e:
            failed += 1
            print("FAIL: AWS example %s: %s" % (name, e.msg))
        # One flipped signature digit must be refused.
        bad = dict(h)
        bad["authorization"] = h["authorization"][:-1] + (
            "0" if sig[-1] != "0" else "1")
        try:
            verify(method, h["host"], path, query, bad, body, EXAMPLE_SK,
                   EXAMPLE_AK, "us-east-1")
            failed += 1
            print("FAIL: AWS example %s: a wrong signature passed" % name)
        except SigError:
            print("ok: AWS example %s: wrong signature refused" % name)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--root")
    ap.add_argument("--port-file")
    ap.add_argument("--bucket", default="booktape")
    ap.add_argument("--access-key", default="AKIDBOOKTAPETEST")
    ap.add_argument("--secret-key", default="booktape/test/secret/KEY")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    os.makedirs(os.path.join(args.root, args.bucket), exist_ok=True)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
