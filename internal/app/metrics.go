package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"vaultwatch/internal/store"
)

// pipelineCollector exposes the pipeline's and the engine's counters at
// every scrape.
type pipelineCollector struct {
	s *Service
}

var (
	mChunks    = prometheus.NewDesc("vaultwatch_pipeline_chunks_total", "Chunks of records taken from the sources.", nil, nil)
	mRecords   = prometheus.NewDesc("vaultwatch_pipeline_records_total", "Records read from the sources.", nil, nil)
	mMalformed = prometheus.NewDesc("vaultwatch_pipeline_malformed_records_total", "Records that could not be read (each reported with its place).", nil, nil)
	mEvents    = prometheus.NewDesc("vaultwatch_pipeline_events_total", "Access events committed to the store.", nil, nil)
	mAlertUps  = prometheus.NewDesc("vaultwatch_pipeline_alert_writes_total", "Alerts written to the store (new, or grown).", nil, nil)
	mBatches   = prometheus.NewDesc("vaultwatch_pipeline_batches_total", "Batches committed.", nil, nil)
	mCommitErr = prometheus.NewDesc("vaultwatch_pipeline_commit_errors_total", "Batches the store refused after retries.", nil, nil)
	mLastEvent = prometheus.NewDesc("vaultwatch_pipeline_last_event_timestamp_seconds", "Time of the last committed event (the event's own time).", nil, nil)
	mFindings  = prometheus.NewDesc("vaultwatch_detect_findings_total", "Findings the detectors raised (one alert gathers many).", nil, nil)
	mEvicted   = prometheus.NewDesc("vaultwatch_detect_alerts_evicted_total", "Open alerts closed early because too many were open.", nil, nil)
	mNotified  = prometheus.NewDesc("vaultwatch_notifications_total", "Notification attempts by outcome: sent, failed (given up), retried; held (into a digest by a rate limit).", []string{"outcome"}, nil)
	mExported  = prometheus.NewDesc("vaultwatch_export_records_total", "Records the exports' destinations took.", nil, nil)
	mExportErr = prometheus.NewDesc("vaultwatch_export_errors_total", "Export batches refused or failed (retried, or the export stopped).", nil, nil)
	mOutbox    = prometheus.NewDesc("vaultwatch_outbox_notifications", "Notifications in the outbox, by state.", []string{"state"}, nil)
)

func (c pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mChunks, mRecords, mMalformed, mEvents, mAlertUps, mBatches, mCommitErr, mLastEvent, mFindings, mEvicted,
		mNotified, mExported, mExportErr, mOutbox} {
		ch <- d
	}
}

func (c pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.s.pipeline.Counters()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(mChunks, p.Chunks)
	counter(mRecords, p.Records)
	counter(mMalformed, p.Malformed)
	counter(mEvents, p.Events)
	counter(mAlertUps, p.Alerts)
	counter(mBatches, p.Batches)
	counter(mCommitErr, p.CommitErrors)
	counter(mFindings, p.Findings)
	counter(mEvicted, p.Evicted)
	if o := c.s.out; o != nil {
		oc := o.Counters()
		for outcome, v := range map[string]int64{"sent": oc.Sent, "failed": oc.Failed, "retried": oc.Retried, "held": oc.Held} {
			ch <- prometheus.MustNewConstMetric(mNotified, prometheus.CounterValue, float64(v), outcome)
		}
		counter(mExported, oc.Exported)
		counter(mExportErr, oc.ExportErrors)
		if counts, err := o.box.OutboxCounts(context.Background()); err == nil {
			for _, st := range []string{store.OutboxPending, store.OutboxSent, store.OutboxFailed} {
				ch <- prometheus.MustNewConstMetric(mOutbox, prometheus.GaugeValue, float64(counts[st]), st)
			}
		}
	}
	if !p.LastEvent.IsZero() {
		ch <- prometheus.MustNewConstMetric(mLastEvent, prometheus.GaugeValue, float64(p.LastEvent.UnixNano())/1e9)
	}
}
