package notify_test

import (
	"context"
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/notify"
)

// printer is a Notifier that prints what it is given.
type printer struct{}

func (printer) Name() string { return "printer" }
func (printer) Notify(_ context.Context, n notify.Notification) error {
	fmt.Printf("to %s: %d alert(s), digest %v\n", n.Receiver, len(n.Alerts), n.Digest)
	return nil
}

// The stages of one alert, as an outbox runs them: route, then for each
// recipient rate-limit (or hold for the digest), dedup by id, send with
// retries, mark sent.
func Example_pipeline() {
	routes := notify.Routes{{Address: "soc@example.com", MinSeverity: alert.SeverityMedium}}
	limits := notify.NewRateLimiter(notify.Limits{alert.SeverityHigh: 1}, time.Hour, 0)
	sent := notify.NewDedup(0)
	var out notify.Notifier = printer{}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

	deliver := func(n notify.Notification) {
		if sent.Has(n.ID) {
			return
		}
		if err := notify.Retry(context.Background(), notify.Backoff{}, func() error { return out.Notify(context.Background(), n) }); err != nil {
			fmt.Println("failed:", err)
			return
		}
		sent.Add(n.ID)
	}
	for i := range 3 {
		a := alert.Alert{Type: alert.DecoySecretAccess, StartTime: now.Add(time.Duration(i) * time.Minute), Vault: alert.Vault{ID: "kv-pay"}}
		a.Fill()
		for _, rcpt := range routes.Route(a) {
			if limits.Allow(rcpt, a, now) {
				deliver(notify.Notification{ID: a.ID + "/" + rcpt, Receiver: rcpt, Alerts: []alert.Alert{a}, CreatedAt: now})
			}
		}
	}
	for _, d := range limits.Digests(now.Add(time.Hour)) {
		deliver(notify.Notification{ID: d.ID(), Receiver: d.Recipient, Alerts: d.Alerts, Digest: true, CreatedAt: now.Add(time.Hour)})
	}
	// Output:
	// to soc@example.com: 1 alert(s), digest false
	// to soc@example.com: 2 alert(s), digest true
}
