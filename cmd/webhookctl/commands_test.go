package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCommands runs every resource command of webhookctl, in table and JSON
// form, against a real webhookd on each backend. Both backends compare with
// the same golden files: what a user sees does not depend on the database.
func TestCommands(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			a := startWebhookd(t, b.args(t)...)
			rcv := newReceiver(t)
			admin := newCLI(t, b.golden, map[string]string{"WEBHOOKD_SERVER": a.GRPCAddr(), "WEBHOOKD_API_KEY": adminToken})
			testCommands(t, admin, rcv)
		})
	}
}

func testCommands(t *testing.T, admin *cli, rcv *receiver) {
	// Accounts and API keys, with the internal key.
	var acmeAccount map[string]any
	if err := json.Unmarshal([]byte(admin.checkGolden("accounts_create_json", "accounts", "create", "--display-name", "Acme Realty", "--format", "json")), &acmeAccount); err != nil {
		t.Fatal(err)
	}
	acme := acmeAccount["name"].(string)
	admin.checkGolden("accounts_create_table", "accounts", "create", "--display-name", "Beta Homes")
	admin.checkGolden("accounts_list_table", "accounts", "list")
	admin.checkGolden("accounts_list_json", "accounts", "list", "--format", "json")
	admin.checkGolden("accounts_get_table", "accounts", "get", strings.TrimPrefix(acme, "accounts/"))
	admin.checkGolden("accounts_get_json", "accounts", "get", acme, "--format", "json")

	out := admin.checkGolden("api-keys_create_json", "api-keys", "create", "--account", acme, "--display-name", "Acme dev", "--format", "json")
	var key map[string]any
	if err := json.Unmarshal([]byte(out), &key); err != nil {
		t.Fatal(err)
	}
	token := key["token"].(string)
	admin.checkGolden("api-keys_create_table", "api-keys", "create", "--internal", "--display-name", "ops")
	ops := admin.json("api-keys", "list")["apiKeys"].([]any)[0].(map[string]any)["name"].(string)
	admin.checkGolden("api-keys_list_table", "api-keys", "list", "--account", acme)
	admin.checkGolden("api-keys_list_json", "api-keys", "list", "--account", acme, "--format", "json")
	admin.checkGolden("api-keys_get_table", "api-keys", "get", ops)
	admin.checkGolden("api-keys_get_json", "api-keys", "get", ops, "--format", "json")
	admin.checkGolden("api-keys_revoke_table", "api-keys", "revoke", ops)
	admin.checkGolden("api-keys_revoke_json", "api-keys", "revoke", ops, "--format", "json") // revoking is idempotent

	// login stores the customer key and the server in a profile that
	// only its owner can read; from then on no flag or variable is needed.
	login := admin.with(map[string]string{"WEBHOOKD_API_KEY": ""})
	loginOut := login.runIn(token+"\n", "login", "--profile", "acme")
	if loginOut.code != 0 {
		t.Fatalf("login: exit %d: %s", loginOut.code, loginOut.stderr)
	}
	configFile := filepath.Join(admin.env["XDG_CONFIG_HOME"], "webhookd", "config.json")
	if info, err := os.Stat(configFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v, mode %v; want mode 0600", configFile, err, info.Mode())
	}
	if !strings.Contains(loginOut.stdout, configFile) {
		t.Errorf("login does not say where it saved the profile: %q", loginOut.stdout)
	}
	customer := admin.with(map[string]string{"WEBHOOKD_API_KEY": "", "WEBHOOKD_SERVER": "", "WEBHOOKD_PROFILE": "acme"})

	// The catalog.
	customer.checkGolden("event-types_list_table", "event-types", "list")
	customer.checkGolden("event-types_list_json", "event-types", "list", "--format", "json")
	customer.checkGolden("event-types_get_table", "event-types", "get", "property.created")
	customer.checkGolden("event-types_get_json", "event-types", "get", "eventTypes/property.created", "--format", "json")

	// Endpoints.
	out = customer.checkGolden("endpoints_create_json", "endpoints", "create", "--url", rcv.URL+"/hook",
		"--event-type", "property.created,property.updated", "--description", "CRM sync", "--header", "X-Env=test", "--format", "json")
	var ep map[string]any
	if err := json.Unmarshal([]byte(out), &ep); err != nil {
		t.Fatal(err)
	}
	epName, secret := ep["name"].(string), ep["secret"].(string)
	out = customer.checkGolden("endpoints_create_table", "endpoints", "create", "--url", rcv.URL+"/other", "--event-type", "property.sold")
	ep2 := regexp.MustCompile(`ep_[0-9a-z]{26}`).FindString(out)
	customer.checkGolden("endpoints_list_table", "endpoints", "list")
	customer.checkGolden("endpoints_list_json", "endpoints", "list", "--format", "json")
	customer.checkGolden("endpoints_get_table", "endpoints", "get", epName)
	customer.checkGolden("endpoints_get_json", "endpoints", "get", epName, "--format", "json")
	customer.checkGolden("endpoints_update_table", "endpoints", "update", ep2, "--description", "renamed", "--event-type", "property.sold,property.updated")
	customer.checkGolden("endpoints_update_json", "endpoints", "update", ep2, "--header", "Authorization=Bearer gateway", "--format", "json")
	customer.checkGolden("endpoints_disable_table", "endpoints", "disable", ep2, "--reason", "maintenance")
	customer.checkGolden("endpoints_enable_json", "endpoints", "enable", ep2, "--format", "json")
	customer.checkGolden("endpoints_disable_json", "endpoints", "disable", ep2, "--format", "json")
	customer.checkGolden("endpoints_enable_table", "endpoints", "enable", ep2)
	customer.checkGolden("endpoints_secret_table", "endpoints", "secret", epName)
	if got := customer.json("endpoints", "secret", epName)["secret"]; got != secret {
		t.Errorf("endpoints secret = %v, want the secret of creation %s", got, secret)
	}
	customer.checkGolden("endpoints_rotate-secret_table", "endpoints", "rotate-secret", ep2)
	customer.checkGolden("endpoints_rotate-secret_json", "endpoints", "rotate-secret", ep2, "--format", "json")
	customer.checkGolden("endpoints_recover_table", "endpoints", "recover", epName, "--since", "1h")
	customer.checkGolden("endpoints_recover_json", "endpoints", "recover", epName, "--since", "2020-01-01T00:00:00Z", "--format", "json")

	// Events: publish (from a file, with an override), list, get.
	dataFile := filepath.Join(t.TempDir(), "property.json")
	if err := os.WriteFile(dataFile, []byte(`{"property":{"id":"prop_1","address":"1 Rue de Rivoli","price":500000}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out = customer.checkGolden("events_publish_json", "events", "publish", "--type", "property.created", "--data", "@"+dataFile,
		"--set", "property.price=1", "--idempotency-key", "prop_1-created", "--format", "json")
	var evt map[string]any
	if err := json.Unmarshal([]byte(out), &evt); err != nil {
		t.Fatal(err)
	}
	evt1 := evt["name"].(string)
	if price := evt["data"].(map[string]any)["property"].(map[string]any)["price"]; price != 1.0 {
		t.Errorf("published price = %v, want the --set override 1", price)
	}
	out = customer.checkGolden("events_publish_table", "events", "publish", "--type", "property.updated", "--data", `{"property":{"id":"prop_1"}}`)
	evt2 := regexp.MustCompile(`evt_[0-9a-z]{26}`).FindString(out)
	// Both deliveries of evt2 and the one of evt1 succeed before the
	// lists are taken, so that the goldens do not depend on timing.
	settled := func(event string, n int) func() bool {
		return func() bool {
			ds, _ := customer.json("deliveries", "list", "--event", event)["deliveries"].([]any)
			if len(ds) != n {
				return false
			}
			for _, d := range ds {
				if d.(map[string]any)["status"] != "SUCCEEDED" {
					return false
				}
			}
			return true
		}
	}
	eventually(t, "the deliveries of the published events", settled(evt1, 1))
	eventually(t, "the deliveries of the published events", settled(evt2, 2))
	customer.checkGolden("events_list_table", "events", "list")
	customer.checkGolden("events_list_json", "events", "list", "--format", "json")
	customer.checkGolden("events_get_table", "events", "get", evt1)
	customer.checkGolden("events_get_json", "events", "get", evt1, "--format", "json")

	// Deliveries.
	customer.checkGolden("deliveries_list_table", "deliveries", "list", "--endpoint", epName)
	dl := customer.json("deliveries", "list", "--endpoint", epName, "--type", "property.created")["deliveries"].([]any)
	dlv := dl[0].(map[string]any)["name"].(string)
	customer.checkGolden("deliveries_list_json", "deliveries", "list", "--endpoint", epName, "--format", "json")
	customer.checkGolden("deliveries_list_event_table", "deliveries", "list", "--event", evt2, "--status", "succeeded")
	customer.checkGolden("deliveries_get_table", "deliveries", "get", dlv)
	customer.checkGolden("deliveries_get_json", "deliveries", "get", dlv, "--format", "json")
	customer.checkGolden("deliveries_retry_table", "deliveries", "retry", dlv)
	eventually(t, "the manual retry's attempt", func() bool {
		return customer.json("deliveries", "get", dlv)["attemptCount"] == 2.0
	})
	customer.checkGolden("deliveries_retry_json", "deliveries", "retry", dlv, "--format", "json")
	eventually(t, "the second manual retry's attempt", func() bool {
		return customer.json("deliveries", "get", dlv)["attemptCount"] == 3.0
	})

	customer.checkGolden("endpoints_delete_table", "endpoints", "delete", ep2)
	spare := customer.json("endpoints", "create", "--url", rcv.URL+"/spare", "--event-type", "user.registered")["name"].(string)
	customer.checkGolden("endpoints_delete_json", "endpoints", "delete", spare, "--format", "json")
	customer.fails(1, []string{"NOT_FOUND"}, "endpoints", "get", ep2)

	// Paging: a page at a time, with a hint on stderr, or every page.
	for i := 0; i < 5; i++ {
		customer.ok("events", "publish", "--type", "property.sold", "--data", `{"property":{"id":"p"}}`, "--set", "n="+string(rune('0'+i)))
	}
	page := customer.run("events", "list", "--type", "property.sold", "--page-size", "2")
	if page.code != 0 || strings.Count(page.stdout, "property.sold") != 2 || !strings.Contains(page.stderr, "--page-token") {
		t.Errorf("events list --page-size 2: exit %d, stdout:\n%s\nstderr:\n%s", page.code, page.stdout, page.stderr)
	}
	all := customer.json("events", "list", "--type", "property.sold", "--page-size", "2", "--all")
	if n := len(all["events"].([]any)); n != 5 || all["nextPageToken"] != "" {
		t.Errorf("events list --all: %d events, next page token %q; want 5 and none", n, all["nextPageToken"])
	}
	if out := customer.ok("events", "list", "--type", "property.sold", "--page-size", "2", "--all"); strings.Count(out, "property.sold") != 5 {
		t.Errorf("events list --all (table) shows %d events, want 5:\n%s", strings.Count(out, "property.sold"), out)
	}

	testTrigger(t, customer, rcv, epName, secret)
	testExitCodes(t, admin, customer)
}

// testTrigger sends test events with overrides to the receiver and checks
// what arrived, then hands the request to verify.
func testTrigger(t *testing.T, customer *cli, rcv *receiver, epName, secret string) {
	customer.checkGolden("trigger_table", "trigger", "property.created", "--endpoint", epName,
		"--set", "data.property.price=1", "--set", "data.property.tags=[\"new\"]", "--set", "data.property.note=hello")
	req := rcv.last(t, `"note":"hello"`)
	var body struct {
		Type string `json:"type"`
		Data struct {
			Property map[string]any `json:"property"`
		} `json:"data"`
	}
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatal(err)
	}
	p := body.Data.Property
	if body.Type != "property.created" || p["price"] != 1.0 || p["note"] != "hello" || p["tags"].([]any)[0] != "new" ||
		p["address"] != "123 Main St, New York, NY 10001" || p["bedrooms"] != 2.0 {
		t.Errorf("the test event's body is not the example with the overrides: %s", req.body)
	}

	// Without --endpoint: every enabled endpoint subscribed to the type.
	customer.checkGolden("trigger_json", "trigger", "property.updated", "--format", "json")

	// An endpoint that answers 500: the result says so, exit status 1.
	failing := customer.json("endpoints", "create", "--url", rcv.URL+"/fail", "--event-type", "property.sold")["name"].(string)
	r := customer.fails(1, []string{"1 endpoint of 1 did not answer with a 2xx"}, "trigger", "property.sold", "--endpoint", failing)
	if !strings.Contains(r.stdout, "500") {
		t.Errorf("trigger to a failing endpoint does not show its 500:\n%s", r.stdout)
	}

	testVerify(t, customer, req, secret)
}

// testVerify checks a request webhookd really sent: as received, with a
// wrong secret, and with its body re-serialised.
func testVerify(t *testing.T, c *cli, req recorded, secret string) {
	dir := t.TempDir()
	var headers strings.Builder
	headers.WriteString("POST /hook HTTP/1.1\r\n")
	for name, values := range req.header {
		for _, v := range values {
			headers.WriteString(name + ": " + v + "\r\n")
		}
	}
	headersFile, bodyFile := filepath.Join(dir, "headers.txt"), filepath.Join(dir, "body.json")
	write := func(path string, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(headersFile, []byte(headers.String()))
	write(bodyFile, req.body)

	c.checkGolden("verify_good_table", "verify", "--secret", secret, "--headers", headersFile, "--body", bodyFile)
	c.with(map[string]string{"WEBHOOK_SECRET": secret}).checkGolden("verify_good_json", "verify", "--headers", headersFile, "--body", bodyFile, "--format", "json")

	wrong := c.run("verify", "--secret", "whsec_"+strings.Repeat("A", 43)+"=", "--headers", headersFile, "--body", bodyFile)
	if wrong.code != 1 || strings.Count(wrong.stdout, "wrong secret") != 2 {
		t.Errorf("verify with a wrong secret: exit %d, want 1 and 'wrong secret' for both schemes:\n%s", wrong.code, wrong.stdout)
	}

	// A proxy or a logger that pretty-prints the JSON changes the bytes.
	var reserialised bytes.Buffer
	if err := json.Indent(&reserialised, req.body, "", "    "); err != nil {
		t.Fatal(err)
	}
	write(bodyFile, reserialised.Bytes())
	r := c.run("verify", "--secret", secret, "--headers", headersFile, "--body", bodyFile)
	if r.code != 1 || !strings.Contains(r.stdout, "verifies only after re-canonicalising") || !strings.Contains(r.stdout, "X-Webhook-Signature (the guide's scheme): verified") {
		t.Errorf("verify of a re-serialised body: exit %d, want 1, the guide's scheme verified and Standard Webhooks explaining the re-serialisation:\n%s", r.code, r.stdout)
	}

	// Headers as a JSON object work too.
	flat := map[string]string{}
	for name := range req.header {
		flat[name] = req.header.Get(name)
	}
	b, _ := json.Marshal(flat)
	write(headersFile, b)
	write(bodyFile, req.body)
	c.ok("verify", "--secret", secret, "--headers", headersFile, "--body", bodyFile)

	// Keys reordered (Go's encoding/json sorts them) and indented: no
	// canonical form brings the signed bytes back, and verify says the
	// body was re-serialised.
	var m map[string]any
	if err := json.Unmarshal(req.body, &m); err != nil {
		t.Fatal(err)
	}
	sorted, _ := json.MarshalIndent(m, "", "  ")
	write(bodyFile, sorted)
	if r := c.run("verify", "--secret", secret, "--headers", headersFile, "--body", bodyFile); r.code != 1 || !strings.Contains(r.stdout, "not in the form webhookd sent") {
		t.Errorf("verify of a body with reordered keys: exit %d\n%s", r.code, r.stdout)
	}
}

// testExitCodes checks the exit status and message of each kind of failure.
func testExitCodes(t *testing.T, admin, customer *cli) {
	admin.fails(1, []string{"UNAUTHENTICATED"}, "event-types", "list", "--api-key", "whk_not-a-key")
	customer.fails(1, []string{"NOT_FOUND"}, "endpoints", "get", "ep_00000000000000000000000000")
	customer.fails(1, []string{"PERMISSION_DENIED"}, "accounts", "list")
	customer.fails(1, []string{"INVALID_ARGUMENT", "url"}, "endpoints", "create", "--url", "ftp://example.com", "--event-type", "property.created")
	customer.fails(1, []string{"UNAVAILABLE", "127.0.0.1:1"}, "event-types", "list", "--server", "127.0.0.1:1")

	for _, args := range [][]string{
		{"endpoints", "create", "--url", "https://example.com"}, // --event-type missing
		{"endpoints", "get"},
		{"endpoints", "frobnicate"},
		{"events", "list", "--page-size", "-1"},
		{"events", "list", "--after", "yesterday"},
		{"event-types", "list", "--format", "yaml"},
		{"event-types", "list", "--no-such-flag"},
		{"deliveries", "list"},
		{"trigger"},
		{"verify", "--headers", "h", "--body", "b"}, // no secret
		{"endpoints", "list", "--profile", "nobody"},
	} {
		customer.fails(2, []string{"--help"}, args...)
	}
	customer.fails(2, []string{`did you mean "endpoints"?`}, "endpoinst")
	customer.fails(2, []string{`did you mean "list"?`}, "events", "lsit")
	customer.fails(2, []string{`profile "nobody"`, "it has acme"}, "endpoints", "list", "--profile", "nobody")
}
