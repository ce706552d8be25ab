#!/usr/bin/python3
"""client.py - a dangan client in Python, from proto/dangan.proto and docs/protocol.md alone.

It connects over TLS 1.2 with ALPN "dangan/1", pins the server certificate's
SHA-256 fingerprint, says Hello, logs in, creates and gets a customer, lists
customers page by page with a cursor, subscribes to the change feed, changes
the customer and prints the event that change brings; then shows an update
refused as a version conflict.

Generate the protobuf module first, then run it:

    mkdir -p /tmp/dgpy && protoc --python_out=/tmp/dgpy -I proto proto/dangan.proto
    echo "$PASSWORD" | PYTHONPATH=/tmp/dgpy /usr/bin/python3 docs/examples/client.py \\
        --server 127.0.0.1:7443 --fingerprint SHA256:AB:CD:... --user admin

The password is read from stdin. Debian packages: python3-protobuf, protobuf-compiler.
Exit status: 0 when every step worked, 1 when the server refused one or answered
otherwise than expected, 2 when the server could not be trusted or reached.
tests/integration/test_example_client.c runs it against a real server.
"""

import argparse
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import time

import dangan_pb2 as pb

ALPN = "dangan/1"
# Before Hello tells us Limits.max_frame_after_login; never read a bigger frame.
DEFAULT_MAX_FRAME = 4 * 1024 * 1024


class DanganError(Exception):
    """A Response whose Status is not OK."""

    def __init__(self, status):
        self.status = status
        super().__init__("%s %s: %s" % (pb.Code.Name(status.code), status.reason, status.message))


class UntrustedServer(Exception):
    pass


class Failed(Exception):
    """The server did not do what this example expects of it."""


def parse_fingerprint(text):
    """'SHA256:AB:CD:...' or 64 hex digits -> 32 bytes."""
    if text.upper().startswith("SHA256:"):
        text = text[7:]
    raw = bytes.fromhex(text.replace(":", ""))
    if len(raw) != 32:
        raise ValueError("a fingerprint is 32 bytes (64 hex digits)")
    return raw


def format_fingerprint(raw):
    return "SHA256:" + ":".join("%02X" % b for b in raw)


class Client:
    def __init__(self, server, fingerprint, timeout=10.0):
        host, _, port = server.rpartition(":")
        self.max_frame = DEFAULT_MAX_FRAME
        self.next_id = 1
        self.events = []  # Events that arrived while we waited for a Response
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
                        "ECDHE-ECDSA-AES256-GCM-SHA384")
        ctx.set_alpn_protocols([ALPN])
        # The certificate is self-signed: trust comes from the pinned
        # fingerprint, checked below before a single byte is sent.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=None)
        der = self.sock.getpeercert(binary_form=True)
        seen = hashlib.sha256(der).digest()
        if not hmac.compare_digest(seen, parse_fingerprint(fingerprint)):
            self.sock.close()
            raise UntrustedServer("the server's certificate is %s, not the one trusted"
                                  % format_fingerprint(seen))
        if self.sock.selected_alpn_protocol() != ALPN:
            self.sock.close()
            raise UntrustedServer("the server did not agree to ALPN " + ALPN)

    def close(self):
        self.sock.close()

    # ---- frames: a 4-byte big-endian length, then one Frame

    def _read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buf += chunk
        return bytes(buf)

    def read_frame(self):
        (n,) = struct.unpack(">I", self._read_exact(4))
        if n > self.max_frame:
            raise ConnectionError("frame of %d bytes is over the limit" % n)
        frame = pb.Frame()
        frame.ParseFromString(self._read_exact(n))
        return frame

    def send(self, **body):
        """Sends one Request (body: one field of the Request oneof); returns its id."""
        req = pb.Request(id=self.next_id, **body)
        self.next_id += 1
        data = pb.Frame(request=req).SerializeToString()
        self.sock.sendall(struct.pack(">I", len(data)) + data)
        return req.id

    def wait(self, request_id):
        """Reads until the Response to request_id; Events on the way are kept."""
        while True:
            frame = self.read_frame()
            kind = frame.WhichOneof("kind")
            if kind == "event":
                self.events.append(frame.event)
            elif kind == "response":
                resp = frame.response
                if resp.id == request_id:
                    return resp
                if resp.id == 0:  # about the connection, which the server now closes
                    raise DanganError(resp.status)
                # a reply to another request in flight: this client sends one at a time
                raise Failed("unexpected reply to request %d" % resp.id)

    def call(self, **body):
        """send + wait; raises DanganError unless the Status is OK."""
        resp = self.wait(self.send(**body))
        if resp.status.code != pb.OK:
            raise DanganError(resp.status)
        return getattr(resp, resp.WhichOneof("body"))

    def next_event(self, timeout, ping_interval):
        """The next Event, pinging while the connection is quiet; None after timeout."""
        deadline = time.monotonic() + timeout
        while not self.events:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(min(left, ping_interval))
            try:
                frame = self.read_frame()
            except socket.timeout:
                self.call(ping=pb.PingRequest(client_time_ms=int(time.time() * 1000)))
                continue
            finally:
                self.sock.settimeout(None)
            if frame.WhichOneof("kind") == "event":
                self.events.append(frame.event)
            elif frame.response.id == 0:
                raise DanganError(frame.response.status)
        return self.events.pop(0)


def customer_name(rec):
    return rec.customer.name


def run(args, password):
    c = Client(args.server, args.fingerprint)
    try:
        hello = c.call(hello=pb.HelloRequest(protocol_major=1, protocol_minor=0,
                                            client_name="example-client.py/1"))
        c.max_frame = hello.limits.max_frame_after_login
        ping_s = hello.limits.ping_interval_ms / 1000.0
        print("hello: %s, protocol %d.%d, in flight at most %d, ping every %d ms"
              % (hello.server_version, hello.protocol_major, hello.protocol_minor,
                 hello.limits.max_in_flight, hello.limits.ping_interval_ms))

        login = c.call(login=pb.LoginRequest(username=args.user, password=password))
        print("login: %s (%s)" % (login.session.user.username,
                                  pb.Role.Name(login.session.user.role)))

        # Create with an idempotency key: a retry after a lost reply is answered
        # with the first answer and creates nothing twice.
        # allow_duplicate: run it again and it makes another customer of that name.
        create = pb.CreateRequest(
            record=pb.Record(customer=pb.Customer(name=args.name, phone="0755-2878-0808",
                                                  tier=pb.TIER_B)),
            idempotency_key="example-%s" % os.urandom(8).hex(), allow_duplicate=True)
        created = c.call(create=create).record.customer
        print("created: %s id=%d version=%d" % (created.code, created.id, created.version))
        again = c.call(create=create).record.customer
        if again.id != created.id:
            raise Failed("a retry with the same idempotency key created customer %d" % again.id)
        print("retried: the same key answers the same customer, id=%d" % again.id)

        got = c.call(get=pb.GetRequest(kind=pb.ENTITY_KIND_CUSTOMER, id=created.id, dossier=True))
        print("got: %s %s phone=%s contacts=%d"
              % (got.record.customer.code, got.record.customer.name, got.record.customer.phone,
                 len(got.dossier.contacts)))

        for i in range(2):
            c.call(create=pb.CreateRequest(
                record=pb.Record(customer=pb.Customer(name="%s %d" % (args.name, i + 2))),
                allow_duplicate=True))

        # Pages of 2: pass next_cursor back, with the same filter and sort,
        # until it comes back empty (here: at most 3 pages).
        cursor, page, snapshot = "", 0, None
        while page < 3:
            lst = c.call(list=pb.ListRequest(kind=pb.ENTITY_KIND_CUSTOMER, sort="code", limit=2,
                                             cursor=cursor))
            page += 1
            snapshot = snapshot or lst.snapshot
            print("list page %d: %s" % (page, ", ".join(customer_name(r) for r in lst.records)))
            if not lst.next_cursor:
                break
            cursor = lst.next_cursor

        # Follow changes from the first page's snapshot: nothing is missed
        # between the list and the subscription.
        sub = c.call(subscribe=pb.SubscribeRequest(since=snapshot))
        print("subscribed: id=%d head=%d" % (sub.subscription_id, sub.head.seq))

        updated = c.call(update=pb.UpdateRequest(
            record=pb.Record(customer=pb.Customer(id=created.id, phone="0755-1234-5678")),
            update_mask=["phone"], expected_version=created.version)).record.customer
        print("updated: %s version=%d phone=%s" % (updated.code, updated.version, updated.phone))

        while True:
            ev = c.next_event(timeout=10.0, ping_interval=ping_s)
            if ev is None:
                raise Failed("no change event within 10 s")
            body = ev.WhichOneof("body")
            if body == "resync_required":
                # The subscription has ended: forget the saved cursor, reload,
                # subscribe again from the reload's snapshot.
                raise Failed("resync required: %s" % ev.resync_required.reason)
            if body == "change":
                ch = ev.change
                print("event: %s %s id=%d version=%d fields=%s by %s cursor=%d"
                      % (pb.EntityKind.Name(ch.kind), ch.op, ch.id, ch.version,
                         ",".join(ch.fields), ch.actor.username, ev.cursor.seq))
                break
            print("event: %s" % body)  # caught_up, progress, hidden

        # The same field again, from the version seen before the update:
        # someone (we) changed it since, so the server refuses.
        try:
            c.call(update=pb.UpdateRequest(
                record=pb.Record(customer=pb.Customer(id=created.id, phone="0755-0000-0000")),
                update_mask=["phone"], expected_version=created.version))
            raise Failed("a stale update was applied")
        except DanganError as e:
            if e.status.reason != "version_conflict":
                raise
            print("conflict: %s %s fields=%s" % (pb.Code.Name(e.status.code), e.status.reason,
                                                 ",".join(e.status.conflicting_fields)))

        c.call(logout=pb.LogoutRequest())
        print("logged out")
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="HOST:PORT")
    ap.add_argument("--fingerprint", required=True, help="SHA256:AB:CD:... of the certificate")
    ap.add_argument("--user", required=True)
    ap.add_argument("--name", default="示例客户 Example Ltd", help="the customer to create")
    args = ap.parse_args()
    password = sys.stdin.readline().rstrip("\n")
    try:
        run(args, password)
    except UntrustedServer as e:
        print("not trusted: %s" % e, file=sys.stderr)
        return 2
    except (OSError, ssl.SSLError) as e:
        print("connection: %s" % e, file=sys.stderr)
        return 2
    except DanganError as e:
        print("refused: %s" % e, file=sys.stderr)
        return 1
    except Failed as e:
        print("failed: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
