"""The SDK against a real webhookd: the contract scenario every SDK runs.

contract_test.go (go test ./sdk/python/) builds and starts webhookd with
--allow-http-endpoints --allow-cidr 127.0.0.0/8 and a low --rate-limit, then
runs these tests with:

    WEBHOOKD_CONTRACT_GRPC_ADDR    webhookd's gRPC address (plaintext loopback)
    WEBHOOKD_CONTRACT_ADMIN_TOKEN  its admin token (WEBHOOKD_ADMIN_TOKEN)

Without them the tests skip. The receiver is a standard-library HTTP server on
loopback that checks each request with verify(), as a customer's would.
"""

import http.server
import json
import os
import threading
import time
import unittest
import uuid

from webhookd import SCHEME_GUIDE, SCHEME_STANDARD, Client, RetryPolicy, WebhookVerificationError, verify
from webhookd.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError
from webhookd.types import Attempt, Delivery

ADDR = os.environ.get("WEBHOOKD_CONTRACT_GRPC_ADDR", "")
ADMIN_TOKEN = os.environ.get("WEBHOOKD_CONTRACT_ADMIN_TOKEN", "")


class Receiver:
    """A loopback webhook receiver that answers 200, or 500 when told to
    fail, and keeps every request's headers and raw body."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (headers, body)
        self.status = 200
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    status = receiver.status
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"received":true}' if status == 200 else b'{"error":"failing on cue"}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n, timeout=30.0):
        """The first n requests, once they have arrived."""
        with self.lock:
            ok = self.arrived.wait_for(lambda: len(self.requests) >= n, timeout)
            if not ok:
                raise AssertionError(f"the receiver got {len(self.requests)} requests within {timeout}s, want {n}")
            return list(self.requests[:n])


def wait_until(fn, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


@unittest.skipUnless(ADDR and ADMIN_TOKEN, "needs a webhookd: run go test ./sdk/python/")
class ContractTest(unittest.TestCase):
    def setUp(self):
        self.admin = Client(ADDR, ADMIN_TOKEN)
        self.addCleanup(self.admin.close)
        self.account = self.admin.create_account(f"Python SDK {uuid.uuid4().hex[:8]}")
        key = self.admin.create_api_key(self.account.name, "python sdk contract test")
        self.assertTrue(key.token.startswith("whk_"))
        self.client = Client(ADDR, key.token)
        self.addCleanup(self.client.close)
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def test_scenario(self):
        c = self.client
        ep = c.create_endpoint(self.receiver.url, ["property.created"], description="python contract")
        self.assertTrue(ep.secret.startswith("whsec_"))
        self.assertEqual(ep.account, self.account.name)
        self.assertIn(ep.name, [e.name for e in c.endpoints(page_size=1)])

        data = {"property": {"id": "prop_123456", "address": "123 Main St, New York, NY 10001", "price": 750000}}
        event = c.publish("property.created", data)
        self.assertTrue(event.idempotency_key.startswith("py-"))

        # Wait for the delivery, then list its attempts.
        def succeeded():
            ds = list(c.deliveries(event.name))
            return ds if ds and ds[0].status == Delivery.SUCCEEDED else None

        (delivery,) = wait_until(succeeded, "the delivery to succeed")
        self.assertEqual(delivery.endpoint, ep.name)
        got = c.get_delivery(delivery.name)
        self.assertEqual([(a.number, a.trigger, a.response_status_code) for a in got.attempts],
                         [(1, Attempt.INITIAL, 200)])
        self.assertIn(delivery.name, [d.name for d in c.deliveries(ep.name, statuses=[Delivery.SUCCEEDED])])

        # The request received verifies with the endpoint's secret, in both
        # schemes, over the raw body; a changed body does not.
        (headers, body), = self.receiver.wait_for(1)
        self.assertEqual(json.loads(body)["data"], data)
        v = verify(ep.secret, headers, body)
        self.assertEqual((v.scheme, v.id), (SCHEME_STANDARD, json.loads(body)["id"]))
        self.assertEqual(verify(ep.secret, headers, body, scheme=SCHEME_GUIDE).scheme, SCHEME_GUIDE)
        with self.assertRaises(WebhookVerificationError):
            verify(ep.secret, headers, body.replace(b"750000", b"750001"))

        # Make the receiver fail and retry the delivery by hand.
        self.receiver.status = 500
        c.retry_delivery(delivery.name)

        def second_attempt():
            d = c.get_delivery(delivery.name)
            return d if len(d.attempts) >= 2 else None

        got = wait_until(second_attempt, "the manual attempt")
        manual = [a for a in got.attempts if a.number == 2][0]
        self.assertEqual((manual.trigger, manual.response_status_code), (Attempt.MANUAL, 500))
        (_, _), (headers2, body2) = self.receiver.wait_for(2)
        self.assertEqual(body2, body, "an attempt sends the stored body again")
        self.assertEqual(verify(ep.secret, headers2, body2).id, v.id)

        # Rotate the secret: through the grace period the Standard Webhooks
        # signature carries both secrets; the guide's, only the new one.
        rotated = c.rotate_endpoint_secret(ep.name)
        self.assertEqual(rotated.previous_secret, ep.secret)
        self.receiver.status = 200
        c.retry_delivery(delivery.name)
        (_, _), (_, _), (headers3, body3) = self.receiver.wait_for(3)
        verify(ep.secret, headers3, body3, scheme=SCHEME_STANDARD)
        verify(rotated.secret, headers3, body3, scheme=SCHEME_STANDARD)
        verify(rotated.secret, headers3, body3, scheme=SCHEME_GUIDE)
        with self.assertRaises(WebhookVerificationError):
            verify(ep.secret, headers3, body3, scheme=SCHEME_GUIDE)
        wait_until(lambda: c.get_delivery(delivery.name).status == Delivery.SUCCEEDED, "the delivery to succeed again")

    def test_publish_with_one_idempotency_key_publishes_once(self):
        c = self.client
        ep = c.create_endpoint(self.receiver.url, ["property.created"])
        first = c.publish("property.created", {"n": 1}, idempotency_key="contract-1")
        again = c.publish("property.created", {"n": 1}, idempotency_key="contract-1")
        self.assertEqual(first.name, again.name)
        self.receiver.wait_for(1)
        self.assertEqual(len(list(c.deliveries(ep.name))), 1)
        self.assertEqual(len([e for e in c.events() if e.idempotency_key == "contract-1"]), 1)

    def test_field_violations(self):
        with self.assertRaises(InvalidArgumentError) as cm:
            self.client.create_endpoint("not a url", ["property.created"])
        fields = [v.field for v in cm.exception.field_violations]
        self.assertTrue(fields and all(f.startswith("endpoint.url") for f in fields), cm.exception.field_violations)
        self.assertTrue(cm.exception.field_violations[0].description)

        with self.assertRaises(InvalidArgumentError) as cm:
            self.client.publish("no.such.type", {})
        self.assertTrue(cm.exception.field_violations, cm.exception)

    def test_errors(self):
        with self.assertRaises(NotFoundError):
            self.client.get_delivery("deliveries/dlv_00000000000000000000000000")
        with self.assertRaises(PermissionDeniedError):
            self.client.create_account("a customer key may not")

    def test_rate_limit_retry_info_honoured(self):
        # webhookd runs with a low --rate-limit: a client that does not retry
        # runs into it and is told how long to wait ...
        no_retry = Client(ADDR, self.client_token(), retry=RetryPolicy(max_attempts=1))
        self.addCleanup(no_retry.close)
        with self.assertRaises(ResourceExhaustedError) as cm:
            for _ in range(1000):
                no_retry.list_event_types()
        delay = cm.exception.retry_delay
        self.assertIsNotNone(delay, "RESOURCE_EXHAUSTED without RetryInfo")
        self.assertGreater(delay, 0)

        # ... and the default client waits that long and succeeds.
        retries = []
        patient = Client(ADDR, self.client_token(), on_retry=lambda err, d: retries.append((err, d)))
        self.addCleanup(patient.close)
        # Calls until one had to wait: the limit refills 10 calls a second,
        # so only a machine taking 100 ms a call would never wait.
        for _ in range(200):
            self.assertEqual(len(patient.list_event_types()), 8)
            if retries:
                break
        self.assertTrue(retries, "the client never had to wait: is --rate-limit low enough?")
        for err, waited in retries:
            self.assertIsInstance(err, ResourceExhaustedError)
            self.assertIsNotNone(err.retry_delay)
            self.assertGreaterEqual(waited, err.retry_delay)
            self.assertLessEqual(waited, err.retry_delay * 1.1 + 1e-9)

    def client_token(self):
        return self.admin.create_api_key(self.account.name, "rate limit").token


if __name__ == "__main__":
    unittest.main()
