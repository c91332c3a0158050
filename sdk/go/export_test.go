package webhookd

// VerifyAt is Verify at a given time, for tests of the timestamp window.
var VerifyAt = verifyAt
