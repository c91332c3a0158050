package webhookd

import "time"

// Account is a tenant: every endpoint, event and delivery belongs to one.
type Account struct {
	ID          string
	DisplayName string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// APIKey is a credential. A customer key belongs to one account and sees only
// that account; an internal key (AccountID empty, Internal true) is held by the
// platform's own services and may act for any account. Only a SHA-256 hash of
// the token is stored; the token itself is shown once, on creation.
type APIKey struct {
	ID          string
	AccountID   string
	Internal    bool
	DisplayName string
	TokenHash   []byte
	CreateTime  time.Time
	RevokeTime  time.Time // zero while the key is active
}

// Revoked reports whether the key no longer authenticates.
func (k *APIKey) Revoked() bool { return !k.RevokeTime.IsZero() }

// EndpointStats is how an endpoint's deliveries fared recently.
type EndpointStats struct {
	Succeeded, Failed int64 // deliveries that ended so since the time asked for
	// LastError is the error of the endpoint's latest delivery that failed
	// or is being retried after an error, at LastErrorTime; "" if none.
	LastError     string
	LastErrorTime time.Time
}

// PortalSession is a short-lived dashboard sign-in acting for one account.
type PortalSession struct {
	ID         string
	AccountID  string
	TokenHash  []byte
	CreateTime time.Time
	ExpireTime time.Time
	RevokeTime time.Time // zero while the session is active
}

// Active reports whether the session still authenticates at now.
func (s *PortalSession) Active(now time.Time) bool {
	return s.RevokeTime.IsZero() && now.Before(s.ExpireTime)
}

// EventType is an entry of the catalog of events customers can subscribe to.
type EventType struct {
	Name        string
	Description string
	// Example is a full example envelope ({"id","type","created","data"}) as
	// JSON, shown to customers and used as the default test-event payload.
	Example    []byte
	CreateTime time.Time
}

// Endpoint is a customer's URL that receives the events it subscribes to.
type Endpoint struct {
	ID          string
	AccountID   string
	URL         string
	Description string
	EventTypes  []string
	Headers     map[string]string
	Disabled    bool
	// DisabledReason says why the endpoint stopped receiving events
	// ("disabled by user", "receiver answered 410 Gone", ...).
	DisabledReason string
	// DisableTime is when the endpoint was disabled; zero while enabled.
	DisableTime time.Time
	// FailingSince is when the current run of failed attempts began (the
	// first failure since the last success); zero while the last attempt
	// succeeded. It is kept by RecordAttempts and cleared on re-enabling.
	FailingSince time.Time
	// Secret signs every request. During a rotation PreviousSecret keeps
	// signing as well until PreviousSecretExpireTime.
	Secret                   string
	PreviousSecret           string
	PreviousSecretExpireTime time.Time
	CreateTime               time.Time
	UpdateTime               time.Time
	// Development marks the account's development endpoint: its deliveries
	// go to the listeners connected to it (webhookctl listen), never to URL.
	Development bool
	// Revision counts the writes that changed the endpoint's settings or
	// state; the store sets it. A write that starts from a read (an update
	// of its settings) names the revision it read and fails with
	// KindAborted if the endpoint changed meanwhile. The API's etag is
	// made from it.
	Revision int64
}

// Subscribes reports whether the endpoint wants events of type eventType.
func (e *Endpoint) Subscribes(eventType string) bool {
	for _, t := range e.EventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

// Event is something that happened on the platform, published once and
// delivered to every subscribed endpoint of its account.
type Event struct {
	ID        string
	AccountID string
	Type      string
	// Data is the event's payload as JSON, in the exact encoding receivers get.
	Data           []byte
	IdempotencyKey string
	// Test marks an event made by :sendTestEvent; it is delivered only to the
	// endpoint it was sent to and is not listed among the account's events.
	Test       bool
	CreateTime time.Time
}

// DeliveryStatus is the lifecycle state of a delivery.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is the sending of one event to one endpoint, over one or more attempts.
type Delivery struct {
	ID              string
	AccountID       string
	EventID         string
	EndpointID      string
	EventType       string
	Status          DeliveryStatus
	AttemptCount    int
	NextAttemptTime time.Time // zero once the delivery is final
	// NextTrigger is what the next attempt will be recorded as: initial for
	// a new delivery, retry after a failed attempt, manual after RetryDelivery
	// or RecoverEndpoint, test for a test event.
	NextTrigger        AttemptTrigger
	LastError          string
	LastResponseStatus int
	CreateTime         time.Time
	UpdateTime         time.Time
	// Attempts is filled only by reads that ask for it (getting one delivery).
	Attempts []*Attempt
	// EndpointUpdateTime is the endpoint's UpdateTime as it was when this
	// delivery was written. Only PublishEvent sets it, so that the delivery
	// engine can tell whether an endpoint it already holds is still current
	// without reading it again; it is not stored.
	EndpointUpdateTime time.Time
}

// AttemptTrigger says why an attempt was made.
type AttemptTrigger string

const (
	TriggerInitial AttemptTrigger = "initial"
	TriggerRetry   AttemptTrigger = "retry"
	TriggerManual  AttemptTrigger = "manual"
	TriggerTest    AttemptTrigger = "test"
)

// Attempt is one HTTP request made for a delivery and what came of it.
type Attempt struct {
	ID             string
	DeliveryID     string
	Number         int
	Trigger        AttemptTrigger
	StartTime      time.Time
	Duration       time.Duration
	ResponseStatus int    // 0 when no response arrived
	ResponseBody   string // first bytes of the response body
	Error          string // empty on success
}
