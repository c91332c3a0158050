"""Client behaviour against a real gRPC server in this process.

webhookd itself answers UNAVAILABLE only when it is down, so these faults come
from a grpcio server that fails on cue; tests/test_contract.py runs the same
client against a real webhookd.
"""

import threading
import unittest
from concurrent import futures

import grpc
from google.protobuf import any_pb2, duration_pb2

from webhookd import Client, RetryPolicy
from webhookd._gen.google.rpc import error_details_pb2, status_pb2
from webhookd._gen.webhooks.v1 import resources_pb2, webhook_service_pb2, webhook_service_pb2_grpc
from webhookd.client import is_loopback
from webhookd.errors import InvalidArgumentError, ResourceExhaustedError, UnavailableError


def abort_with_details(context, code, message, *details):
    """Fails a call the way webhookd's Go server does: the details in a
    google.rpc.Status in the grpc-status-details-bin trailer."""
    st = status_pb2.Status(code=code.value[0], message=message)
    for d in details:
        a = any_pb2.Any()
        a.Pack(d)
        st.details.append(a)
    context.set_trailing_metadata((("grpc-status-details-bin", st.SerializeToString()),))
    context.abort(code, message)


class FakeWebhookService(webhook_service_pb2_grpc.WebhookServiceServicer):
    """Fails the first calls of each method as told, and records what it got."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failures = {}  # method -> list of (code, details) to fail with, in turn
        self.requests = {}  # method -> list of (request, metadata)

    def _enter(self, method, request, context):
        with self.lock:
            self.requests.setdefault(method, []).append((request, dict(context.invocation_metadata())))
            pending = self.failures.get(method) or []
            failure = pending.pop(0) if pending else None
        if failure is not None:
            code, details = failure
            abort_with_details(context, code, f"{method} failed on cue", *details)

    def PublishEvent(self, request, context):
        self._enter("PublishEvent", request, context)
        return resources_pb2.Event(name="events/evt_1", type=request.event.type, idempotency_key=request.idempotency_key)

    def CreateEndpoint(self, request, context):
        self._enter("CreateEndpoint", request, context)
        return resources_pb2.Endpoint(name="endpoints/ep_1", url=request.endpoint.url)

    def RetryDelivery(self, request, context):
        self._enter("RetryDelivery", request, context)
        return resources_pb2.Delivery(name=request.name)

    def ListDeliveries(self, request, context):
        self._enter("ListDeliveries", request, context)
        # Three pages of two, the page token being the next offset.
        start = int(request.page_token or "0")
        items = [resources_pb2.Delivery(name=f"deliveries/dlv_{i}") for i in range(start, min(start + 2, 5))]
        token = str(start + 2) if start + 2 < 5 else ""
        return webhook_service_pb2.ListDeliveriesResponse(deliveries=items, next_page_token=token)


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.service = FakeWebhookService()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(self.service, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.sleeps = []
        self.retries = []
        self.client = Client(
            f"127.0.0.1:{port}",
            "whk_test_token",
            retry=RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05),
            sleep=self.sleeps.append,
            on_retry=lambda err, delay: self.retries.append((err.code, err.retry_delay, delay)),
            timeout=10,
        )

    def tearDown(self):
        self.client.close()
        self.server.stop(None)

    def fail_next(self, method, *failures):
        self.service.failures[method] = list(failures)

    def test_auth_metadata(self):
        self.client.publish("property.created", {"property": {"id": "prop_1"}})
        (_, md), = self.service.requests["PublishEvent"]
        self.assertEqual(md["authorization"], "Bearer whk_test_token")
        self.assertRegex(md["user-agent"], r"^webhookd-python/")

    def test_publish_retries_unavailable_with_one_idempotency_key(self):
        self.fail_next("PublishEvent", (grpc.StatusCode.UNAVAILABLE, ()), (grpc.StatusCode.UNAVAILABLE, ()))
        event = self.client.publish("property.created", {"property": {"id": "prop_1", "price": 750000}})
        reqs = [r for r, _ in self.service.requests["PublishEvent"]]
        self.assertEqual(len(reqs), 3)
        keys = {r.idempotency_key for r in reqs}
        self.assertEqual(len(keys), 1, "every retry must carry the first attempt's idempotency key")
        self.assertRegex(keys.pop(), r"^py-[0-9a-f-]{36}$")
        self.assertEqual(event.idempotency_key, reqs[0].idempotency_key)
        self.assertEqual(reqs[0].event.data["property"]["price"], 750000)
        self.assertEqual(len(self.sleeps), 2)
        self.assertTrue(all(0 < s <= 0.05 for s in self.sleeps), self.sleeps)

    def test_publish_keeps_a_given_idempotency_key(self):
        self.client.publish("property.created", {}, idempotency_key="order-42")
        (req, _), = self.service.requests["PublishEvent"]
        self.assertEqual(req.idempotency_key, "order-42")

    def test_two_publishes_get_two_keys(self):
        self.client.publish("property.created", {})
        self.client.publish("property.created", {})
        keys = {r.idempotency_key for r, _ in self.service.requests["PublishEvent"]}
        self.assertEqual(len(keys), 2)

    def test_resource_exhausted_honours_retry_info(self):
        info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1, nanos=500_000_000))
        self.fail_next("CreateEndpoint", (grpc.StatusCode.RESOURCE_EXHAUSTED, (info,)))
        # Not safe to repeat after UNAVAILABLE, but a rate-limited call never ran.
        self.client.create_endpoint("https://example.com/hook", ["property.created"])
        self.assertEqual(len(self.service.requests["CreateEndpoint"]), 2)
        self.assertEqual(len(self.sleeps), 1)
        self.assertGreaterEqual(self.sleeps[0], 1.5)
        self.assertLessEqual(self.sleeps[0], 1.5 * 1.1)
        self.assertEqual(self.retries, [(grpc.StatusCode.RESOURCE_EXHAUSTED, 1.5, self.sleeps[0])])

    def test_resource_exhausted_without_retry_info_is_raised(self):
        # A size limit: the same request would fail again.
        self.fail_next("PublishEvent", (grpc.StatusCode.RESOURCE_EXHAUSTED, ()))
        with self.assertRaises(ResourceExhaustedError) as cm:
            self.client.publish("property.created", {})
        self.assertIsNone(cm.exception.retry_delay)
        self.assertEqual(len(self.service.requests["PublishEvent"]), 1)

    def test_retry_info_longer_than_policy_is_raised(self):
        info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=3600))
        self.fail_next("PublishEvent", (grpc.StatusCode.RESOURCE_EXHAUSTED, (info,)))
        with self.assertRaises(ResourceExhaustedError) as cm:
            self.client.publish("property.created", {})
        self.assertEqual(cm.exception.retry_delay, 3600)
        self.assertEqual(self.sleeps, [])

    def test_unavailable_not_retried_for_unsafe_calls(self):
        for method, call in [
            ("CreateEndpoint", lambda: self.client.create_endpoint("https://example.com/hook", ["property.created"])),
            ("RetryDelivery", lambda: self.client.retry_delivery("deliveries/dlv_1")),
        ]:
            with self.subTest(method):
                self.fail_next(method, (grpc.StatusCode.UNAVAILABLE, ()))
                with self.assertRaises(UnavailableError):
                    call()
                self.assertEqual(len(self.service.requests[method]), 1)
        self.assertEqual(self.sleeps, [])

    def test_gives_up_after_max_attempts(self):
        self.fail_next("PublishEvent", *[(grpc.StatusCode.UNAVAILABLE, ())] * 10)
        with self.assertRaises(UnavailableError):
            self.client.publish("property.created", {})
        self.assertEqual(len(self.service.requests["PublishEvent"]), 4)
        self.assertEqual(len(self.sleeps), 3)

    def test_field_violations(self):
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field="endpoint.url", description="must be https"),
                error_details_pb2.BadRequest.FieldViolation(field="endpoint.event_types", description="unknown"),
            ]
        )
        self.fail_next("CreateEndpoint", (grpc.StatusCode.INVALID_ARGUMENT, (bad,)))
        with self.assertRaises(InvalidArgumentError) as cm:
            self.client.create_endpoint("http://x", ["nope"])
        err = cm.exception
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual([(v.field, v.description) for v in err.field_violations],
                         [("endpoint.url", "must be https"), ("endpoint.event_types", "unknown")])
        self.assertIn("CreateEndpoint failed on cue", str(err))
        self.assertEqual(self.sleeps, [])

    def test_pages(self):
        names = [d.name for d in self.client.deliveries("endpoints/ep_1", page_size=2)]
        self.assertEqual(names, [f"deliveries/dlv_{i}" for i in range(5)])
        tokens = [r.page_token for r, _ in self.service.requests["ListDeliveries"]]
        self.assertEqual(tokens, ["", "2", "4"])

    def test_pages_are_lazy(self):
        it = self.client.deliveries("endpoints/ep_1", page_size=2)
        self.assertNotIn("ListDeliveries", self.service.requests)
        next(it)
        self.assertEqual(len(self.service.requests["ListDeliveries"]), 1)

    def test_pages_retry_unavailable(self):
        self.fail_next("ListDeliveries", (grpc.StatusCode.UNAVAILABLE, ()))
        self.assertEqual(len(list(self.client.deliveries("endpoints/ep_1", page_size=2))), 5)


class LoopbackTest(unittest.TestCase):
    def test_is_loopback(self):
        cases = {
            "localhost:9090": True,
            "LOCALHOST:9090": True,
            "127.0.0.1:9090": True,
            "127.1.2.3:9090": True,
            "[::1]:9090": True,
            "dns:///localhost:9090": True,
            "ipv4:127.0.0.1:9090": True,
            "unix:/run/webhookd.sock": True,
            "webhookd.example.com:443": False,
            "10.0.0.1:9090": False,
            "[2001:db8::1]:443": False,
            "localhost.example.com:443": False,
            "dns:///webhookd.example.com:443": False,
        }
        for target, want in cases.items():
            with self.subTest(target):
                self.assertEqual(is_loopback(target), want)

    def test_required_arguments(self):
        with self.assertRaises(ValueError):
            Client("", "whk_x")
        with self.assertRaises(ValueError):
            Client("localhost:9090", "")
        with self.assertRaises(ValueError):
            RetryPolicy(max_attempts=0)


if __name__ == "__main__":
    unittest.main()
