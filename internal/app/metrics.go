package app

import (
	"github.com/prometheus/client_golang/prometheus"
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
)

func (c pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mChunks, mRecords, mMalformed, mEvents, mAlertUps, mBatches, mCommitErr, mLastEvent, mFindings, mEvicted} {
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
	if !p.LastEvent.IsZero() {
		ch <- prometheus.MustNewConstMetric(mLastEvent, prometheus.GaugeValue, float64(p.LastEvent.UnixNano())/1e9)
	}
}
