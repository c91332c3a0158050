package worker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd"
)

// Metrics are the delivery engine's Prometheus series. A nil *Metrics
// records nothing, so the engine needs no checks where it records.
type Metrics struct {
	attempts          *prometheus.CounterVec
	attemptLatency    prometheus.Histogram
	publishToDelivery prometheus.Histogram
	reconciledTotal   prometheus.Counter
	dispatched        *prometheus.CounterVec
	leaseRenewals     *prometheus.CounterVec
}

// NewMetrics registers the engine's series on reg, together with schedule
// depth and lag gauges read from s at scrape time.
func NewMetrics(reg prometheus.Registerer, s *Schedule, now func() time.Time) (*Metrics, error) {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_attempts_total",
			Help: "Delivery attempts by outcome: success, http_error (non-2xx), gone (410), or error (timeout, connection, TLS, refused address).",
		}, []string{"outcome"}),
		attemptLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "webhookd_attempt_duration_seconds",
			Help:    "Time from sending a request to its response or failure.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		publishToDelivery: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "webhookd_publish_to_delivery_seconds",
			Help:    "Time from publishing an event to the first attempt's response, for first attempts that succeeded.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		reconciledTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "webhookd_reconciled_deliveries_total",
			Help: "Pending deliveries the reconciler found missing from the schedule and put back.",
		}),
		dispatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_dispatched_deliveries_total",
			Help: "Deliveries this process's API handed over for attempts, by path: handoff (to this process's workers) or schedule.",
		}, []string{"path"}),
		leaseRenewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_lease_renewals_total",
			Help: "Leases of slow attempts renewed while in flight, by result: renewed, or lost (another worker had claimed the delivery).",
		}, []string{"result"}),
	}
	gauge := func(name, help string, read func(ctx context.Context) (float64, error)) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			v, err := read(ctx)
			if err != nil {
				return -1 // scrapes must not fail; -1 marks an unreadable schedule
			}
			return v
		})
	}
	collectors := []prometheus.Collector{m.attempts, m.attemptLatency, m.publishToDelivery, m.reconciledTotal, m.dispatched, m.leaseRenewals,
		gauge("webhookd_schedule_depth", "Deliveries in the schedule (due, leased or waiting for a retry).",
			func(ctx context.Context) (float64, error) {
				n, err := s.Len(ctx)
				return float64(n), err
			}),
		gauge("webhookd_schedule_lag_seconds", "How long the earliest due delivery has been waiting to be claimed.",
			func(ctx context.Context) (float64, error) {
				lag, err := s.Lag(ctx, now())
				return lag.Seconds(), err
			}),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) attempt(a *webhookd.Attempt, res Result, ev *webhookd.Event, done time.Time) {
	if m == nil {
		return
	}
	outcome := "success"
	switch {
	case res.Gone:
		outcome = "gone"
	case res.StatusCode != 0 && !res.OK():
		outcome = "http_error"
	case !res.OK():
		outcome = "error"
	}
	m.attempts.WithLabelValues(outcome).Inc()
	m.attemptLatency.Observe(res.Duration.Seconds())
	if res.OK() && a.Number == 1 && a.Trigger == webhookd.TriggerInitial {
		m.publishToDelivery.Observe(done.Sub(ev.CreateTime).Seconds())
	}
}

func (m *Metrics) reconciled(n int64) {
	if m == nil {
		return
	}
	m.reconciledTotal.Add(float64(n))
}

// handedOff counts deliveries dispatched to this process's workers and to
// the schedule.
func (m *Metrics) handedOff(local, scheduled int) {
	if m == nil {
		return
	}
	m.dispatched.WithLabelValues("handoff").Add(float64(local))
	m.dispatched.WithLabelValues("schedule").Add(float64(scheduled))
}

// leasesRenewed counts lease renewals of attempts in flight.
func (m *Metrics) leasesRenewed(renewed, lost int) {
	if m == nil {
		return
	}
	m.leaseRenewals.WithLabelValues("renewed").Add(float64(renewed))
	m.leaseRenewals.WithLabelValues("lost").Add(float64(lost))
}
