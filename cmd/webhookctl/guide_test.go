package main_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/internal/guidereceiver"
)

// TestTriggerToTheGuidesReceiver sends a test event with an override to the
// guide's own Express verifier (and the standardwebhooks package): what
// trigger sends verifies exactly as the guide tells customers to check it.
// It also drives the commands as an internal key does, naming the account.
func TestTriggerToTheGuidesReceiver(t *testing.T) {
	t.Parallel()
	guidereceiver.RequireNode(t, "npm")
	a := startWebhookd(t, "--database-url=sqlite://"+filepath.Join(t.TempDir(), "webhookd.db"))
	admin := newCLI(t, false, map[string]string{"WEBHOOKD_SERVER": a.GRPCAddr(), "WEBHOOKD_API_KEY": adminToken})

	acct := admin.json("accounts", "create", "--display-name", "Acme Realty")["name"].(string)
	// The secret comes with the endpoint and the receiver needs it to
	// start, so the endpoint gets the receiver's URL afterwards.
	ep := admin.json("endpoints", "create", "--account", acct, "--url", "http://127.0.0.1:1/webhooks", "--event-type", "property.created")
	rcv := guidereceiver.Start(t, ep["secret"].(string))
	admin.ok("endpoints", "update", ep["name"].(string), "--url", rcv.URL)

	out := admin.ok("trigger", "property.created", "--account", acct, "--set", "data.property.price=1")
	if !strings.Contains(out, "succeeded") {
		t.Errorf("trigger did not succeed:\n%s", out)
	}
	l := rcv.Next(t)
	if !l.Verified() || l.Type != "property.created" || l.Status != 200 {
		t.Errorf("the guide's receiver got %+v; want property.created verified by both schemes, answered 200", l)
	}
}
