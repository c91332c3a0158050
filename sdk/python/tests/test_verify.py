"""verify() against signatures made by webhookd's own signer (signature.Sign).

The vectors below were printed by signature.Sign for the body, id and time
below, so a verifier that derives a key or builds a message differently from
webhookd fails here, not at a customer.
"""

import time
import unittest

from webhookd import SCHEME_GUIDE, SCHEME_STANDARD, WebhookVerificationError, verify
from webhookd.verify import standard_key

BODY = (
    b'{"created":"2026-12-01T10:00:00Z","data":{"property":{"id":"prop_123456","price":750000}},'
    b'"id":"evt_01m8cm00vv4swx8hfpp0a2wvzh","type":"property.created"}'
)
MSG_ID = "evt_01m8cm00vv4swx8hfpp0a2wvzh"
TS = 1796119200
SECRET = "whsec_2nxS3T9GEpREy59ukKuSMZUZ3vYRiybi"
NEW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# signature.Sign(h, MSG_ID, TS, BODY, [SECRET])
GUIDE_SIG = "ae87dc858d1a11a3d181049be78f44f54c47c4bca862634249430176922f4a46"
STANDARD_SIG = "v1,bYymZYfzCwuF7jumYKcYyq32EjapfMLYOF67/qhAtoA="
# signature.Sign(h, MSG_ID, TS, BODY, [NEW_SECRET, SECRET]): during a rotation.
ROTATING_GUIDE_SIG = "f41b957ab0adf8590e899e76502fb356ad222729a1783e0e8b5bb7edde992ad1"
ROTATING_STANDARD_SIG = "v1,TaKs82o3uRbOJxLiJM5Q3rYAld3rtBmXX1ES3CxVnKU= " + STANDARD_SIG
# Secrets webhookd never makes, keyed with their raw bytes in Standard Webhooks.
RAW_SECRET = "not-a-whsec-secret"
RAW_STANDARD_SIG = "v1,Z+Ybxijb5qdc2KSfRNph0KhCTa0nof4o6KcEdwqYM8A="
BAD_B64_SECRET = "whsec_not*base64"
BAD_B64_STANDARD_SIG = "v1,uNmeJsvQ/O91bxokExRF7Fr5qMqpRxCrPlr4cdQMib4="


def headers(guide_sig=GUIDE_SIG, standard_sig=STANDARD_SIG, ts=TS):
    """The headers webhookd sends, in the case Go's net/http writes them."""
    h = {
        "X-Webhook-Id": MSG_ID,
        "X-Webhook-Timestamp": str(ts),
        "Webhook-Id": MSG_ID,
        "Webhook-Timestamp": str(ts),
    }
    if guide_sig is not None:
        h["X-Webhook-Signature"] = guide_sig
    if standard_sig is not None:
        h["Webhook-Signature"] = standard_sig
    return h


class VerifyTest(unittest.TestCase):
    def test_accepts(self):
        cases = [
            ("standard by default", SECRET, headers(), None, SCHEME_STANDARD),
            ("guide when asked", SECRET, headers(), SCHEME_GUIDE, SCHEME_GUIDE),
            ("guide when it is all there is", SECRET, headers(standard_sig=None), None, SCHEME_GUIDE),
            ("standard: old secret during a rotation", SECRET,
             headers(ROTATING_GUIDE_SIG, ROTATING_STANDARD_SIG), None, SCHEME_STANDARD),
            ("standard: new secret during a rotation", NEW_SECRET,
             headers(ROTATING_GUIDE_SIG, ROTATING_STANDARD_SIG), None, SCHEME_STANDARD),
            ("guide: new secret during a rotation", NEW_SECRET,
             headers(ROTATING_GUIDE_SIG, ROTATING_STANDARD_SIG), SCHEME_GUIDE, SCHEME_GUIDE),
            ("guide: the receiver's own list of secrets", [NEW_SECRET, SECRET], headers(), SCHEME_GUIDE, SCHEME_GUIDE),
            ("lowercase header names", SECRET, {k.lower(): v for k, v in headers().items()}, None, SCHEME_STANDARD),
            ("standard: raw secret", RAW_SECRET, headers(standard_sig=RAW_STANDARD_SIG), SCHEME_STANDARD, SCHEME_STANDARD),
            ("standard: whsec_ that is not base64 is raw", BAD_B64_SECRET,
             headers(standard_sig=BAD_B64_STANDARD_SIG), SCHEME_STANDARD, SCHEME_STANDARD),
            ("standard: unknown versions are skipped", SECRET, headers(standard_sig="v2,abc " + STANDARD_SIG), None,
             SCHEME_STANDARD),
        ]
        for name, secret, h, scheme, want in cases:
            with self.subTest(name):
                got = verify(secret, h, BODY, scheme=scheme, now=TS + 10)
                self.assertEqual(got.scheme, want)
                self.assertEqual(got.id, MSG_ID)
                self.assertEqual(got.timestamp, TS)

    def test_body_as_str_and_memoryview(self):
        verify(SECRET, headers(), BODY.decode(), now=TS)
        verify(SECRET, headers(), memoryview(BODY), now=TS)

    def test_refuses(self):
        tampered = BODY.replace(b"750000", b"750001")
        cases = [
            ("tampered body, standard", SECRET, headers(), tampered, None, "matches"),
            ("tampered body, guide", SECRET, headers(), tampered, SCHEME_GUIDE, "matches"),
            ("wrong secret", NEW_SECRET, headers(), BODY, None, "matches"),
            ("guide: old secret during a rotation (only the current signs)", SECRET,
             headers(ROTATING_GUIDE_SIG, ROTATING_STANDARD_SIG), BODY, SCHEME_GUIDE, "matches"),
            ("re-serialised body", SECRET, headers(), BODY.replace(b",", b", "), None, "matches"),
            ("missing signature", SECRET, headers(standard_sig=None, guide_sig=None), BODY, None, "missing"),
            ("missing standard signature when asked", SECRET, headers(standard_sig=None), BODY, SCHEME_STANDARD,
             "missing webhook-signature"),
            ("timestamp not a number", SECRET, {**headers(), "Webhook-Timestamp": "12a"}, BODY, None, "Unix seconds"),
            ("signature of another id", SECRET, {**headers(), "Webhook-Id": "evt_other"}, BODY, None, "matches"),
            ("no v1 signature", SECRET, headers(standard_sig="v2,abc"), BODY, None, "matches"),
            ("guide signature in upper case", SECRET, headers(guide_sig=GUIDE_SIG.upper()), BODY, SCHEME_GUIDE,
             "matches"),
            ("standard key bytes used raw", SECRET[len("whsec_"):], headers(), BODY, None, "matches"),
        ]
        for name, secret, h, body, scheme, want in cases:
            with self.subTest(name):
                with self.assertRaisesRegex(WebhookVerificationError, want):
                    verify(secret, h, body, scheme=scheme, now=TS)

    def test_tolerance(self):
        cases = [
            ("just inside, past", TS + 300, 300, True),
            ("just outside, past", TS + 301, 300, False),
            ("just outside, future", TS - 301, 300, False),
            ("off", TS + 10**9, None, True),
        ]
        for name, now, tolerance, ok in cases:
            for scheme in (SCHEME_STANDARD, SCHEME_GUIDE):
                with self.subTest(name, scheme=scheme):
                    if ok:
                        verify(SECRET, headers(), BODY, scheme=scheme, tolerance=tolerance, now=now)
                    else:
                        with self.assertRaisesRegex(WebhookVerificationError, "replay"):
                            verify(SECRET, headers(), BODY, scheme=scheme, tolerance=tolerance, now=now)

    def test_current_time_by_default(self):
        # Without now, the clock decides: a tolerance a minute short of the
        # vectors' age refuses them, a minute more accepts them.
        age = abs(time.time() - TS)
        with self.assertRaisesRegex(WebhookVerificationError, "replay"):
            verify(SECRET, headers(), BODY, tolerance=max(age - 60, 0))
        verify(SECRET, headers(), BODY, tolerance=age + 60)

    def test_bad_arguments(self):
        for secret in ("", [], [""]):
            with self.subTest(secret=secret):
                with self.assertRaises(ValueError):
                    verify(secret, headers(), BODY, now=TS)
        with self.assertRaises(ValueError):
            verify(SECRET, headers(), BODY, scheme="v2", now=TS)

    def test_standard_key(self):
        self.assertEqual(len(standard_key(SECRET)), 24)
        self.assertEqual(standard_key(RAW_SECRET), RAW_SECRET.encode())
        self.assertEqual(standard_key("whsec_"), b"whsec_")


if __name__ == "__main__":
    unittest.main()
