package webhookd

// Version is the webhookd release this SDK is part of. It is the content of
// the repository's VERSION file, which webhookd's server reports too
// (version_test.go fails when the two differ). The client sends it in its
// User-Agent, webhookd-go/<Version>.
const Version = "0.1.0"
