// Package kafka is the source that reads Kafka topics, and Azure Event Hubs
// through its Kafka endpoint, as a member of a consumer group.
//
// Each partition's fetched messages become chunks: the messages' values
// (each a JSON record, a JSON Lines batch or a {"records":[...]} wrapper as
// Azure diagnostic settings send them) joined with newlines. Offsets are
// committed only for chunks whose Done reported success, and only as far
// as every earlier chunk of the partition is done too: a chunk that fails
// stops the source with an error, and nothing at or past it is committed,
// so the consumer that resumes reads it again (at least once).
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"vaultwatch/internal/source"
)

// Consumer is a Kafka source. Kafka keeps the group's offsets, so its
// chunks carry no Cursor. A chunk's Origin is "kafka TOPIC/PARTITION@OFFSET",
// the offset of its first message, and its Line is 0: the lines of Data
// count from that message.
//
// Its Status counts messages as records and their values' bytes; Lag is
// the number of messages, over the partitions it holds, from the first one
// not yet durably processed (not done) to the partition's high watermark
// at the last fetch. Errors the client retries by itself (a broker that
// cannot be reached, a failed commit, a group error) are counted there
// without stopping Run.
type Consumer struct {
	source.Counters
	cfg     Config
	log     *slog.Logger
	running atomic.Bool
	// extra client options, for tests.
	extra []kgo.Opt
}

var _ source.Source = (*Consumer)(nil)

// New returns a consumer for cfg, or every problem with cfg. It reads the
// secret files cfg names; it does not connect.
func New(cfg Config) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := cfg.resolved()
	if err != nil {
		return nil, fmt.Errorf("kafka source %q: %w", cfg.Name, err)
	}
	c := &Consumer{
		cfg: r,
		log: r.Logger.With("component", "source/kafka", "source", r.Name),
	}
	c.Init(r.Name, "kafka", "messages")
	if r.SASL.Mechanism == MechanismPLAIN && !r.TLS {
		c.log.Warn("SASL PLAIN without TLS sends the password in clear")
	}
	return c, nil
}

// Name is the configured source's name.
func (c *Consumer) Name() string { return c.cfg.Name }

// Run joins the consumer group and sends chunks to out until ctx is
// cancelled (it then returns nil) or it cannot go on: a chunk's Done
// reported an error, or the client failed for good (it then returns the
// error). Before returning it waits up to the shutdown grace for the chunks
// it handed out to be done, commits what is done and leaves the group;
// Done calls after that change nothing, and their messages are read again
// by whoever consumes the partition next. Run must not be called while
// another Run of the same Consumer is going on.
func (c *Consumer) Run(ctx context.Context, out chan<- source.Chunk) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("kafka source %q: Run called while running", c.cfg.Name)
	}
	defer c.running.Store(false)

	r := &run{c: c, book: newBook(), kick: make(chan struct{}, 1), doneKick: make(chan struct{}, 1)}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel

	opts, err := c.clientOptions(r)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return c.fail(fmt.Errorf("kafka source %q: %w", c.cfg.Name, err))
	}
	if err := c.ping(runCtx, cl); err != nil {
		cl.Close()
		return c.fail(err)
	}
	c.log.Info("joining consumer group", "group", c.cfg.Group, "topics", c.cfg.Topics)

	stopCommits := make(chan struct{})
	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		r.commitLoop(context.WithoutCancel(ctx), cl, stopCommits)
	}()

	err = r.consume(runCtx, cl, out)
	if err == nil && ctx.Err() != nil {
		r.drain(c.cfg.ShutdownGrace)
	}
	close(stopCommits)
	<-committerDone

	final, cancelFinal := context.WithTimeout(context.WithoutCancel(ctx), connectTimeout)
	r.commit(final, cl, nil)
	cancelFinal()
	r.book.close()
	cl.CloseAllowingRebalance()

	if _, ferr := r.book.busy(); ferr != nil {
		err = ferr // the failed chunk is why consuming stopped
	}
	if err != nil {
		return c.fail(err)
	}
	return nil
}

// connectTimeout bounds the first contact with the brokers and each commit.
const connectTimeout = 30 * time.Second

// ping checks that a broker answers and accepts the credentials: the
// client would otherwise retry for ever without a word.
func (c *Consumer) ping(ctx context.Context, cl *kgo.Client) error {
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	err := cl.Ping(pctx)
	if err == nil || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("kafka source %q: no broker of %s answered (unreachable, TLS or SASL refused): %w",
		c.cfg.Name, strings.Join(c.cfg.Brokers, ","), err)
}

// fail counts and logs err and returns it.
func (c *Consumer) fail(err error) error {
	c.Error(err)
	c.log.Error("kafka source stopped", "err", err)
	return err
}

func (c *Consumer) clientOptions(r *run) ([]kgo.Opt, error) {
	cfg := c.cfg
	start := kgo.NewOffset().AtStart()
	if cfg.StartOffset == StartLatest {
		start = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("vaultwatch"),
		kgo.WithLogger(kgoLogger{c.log}),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.ConsumeStartOffset(start),
		// A committed offset that fell out of the log: read what is left.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(r.revoked),
		kgo.OnPartitionsLost(r.lost),
		kgo.WithHooks(hooks{c}),
	}
	if cfg.eventHubs {
		// Event Hubs closes connections idle for 240 s; refresh metadata
		// before that, as Microsoft recommends.
		opts = append(opts, kgo.MetadataMaxAge(180*time.Second))
	}
	switch {
	case cfg.TLSConfig != nil:
		opts = append(opts, kgo.DialTLSConfig(cfg.TLSConfig.Clone()))
	case cfg.TLS:
		opts = append(opts, kgo.DialTLS())
	}
	switch cfg.SASL.Mechanism {
	case "":
	case MechanismPLAIN:
		opts = append(opts, kgo.SASL(plain.Auth{User: cfg.SASL.User, Pass: string(cfg.SASL.Password)}.AsMechanism()))
	case MechanismSCRAMSHA256:
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASL.User, Pass: string(cfg.SASL.Password)}.AsSha256Mechanism()))
	case MechanismSCRAMSHA512:
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASL.User, Pass: string(cfg.SASL.Password)}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("%w: sasl: mechanism %q is not supported", ErrConfig, cfg.SASL.Mechanism)
	}
	return append(opts, c.extra...), nil
}

// run is the state of one Run.
type run struct {
	c        *Consumer
	book     *book
	cancel   context.CancelCauseFunc
	kick     chan struct{} // a chunk is done: commit
	doneKick chan struct{} // a chunk is done: for drain
	// commitMu orders commits with the revocation of partitions, so that
	// no commit for a partition is sent once it has been given up.
	commitMu sync.Mutex
}

// consume polls and hands out chunks until ctx ends or a fetch fails for
// good.
func (r *run) consume(ctx context.Context, cl *kgo.Client, out chan<- source.Chunk) error {
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			cl.AllowRebalance()
			return nil
		}
		if err := r.fetchErrors(fetches); err != nil {
			cl.AllowRebalance()
			return err
		}
		// Rebalancing waits until the chunks are in the book, so that a
		// revocation sees (and drops) them.
		chunks := r.chunks(fetches)
		cl.AllowRebalance()
		r.updateLag()
		for _, ch := range chunks {
			if !r.book.handOut(ch.p) {
				continue
			}
			select {
			case out <- ch.Chunk:
			case <-ctx.Done():
				r.book.takeBack(ch.p)
				return nil
			}
		}
	}
}

// fetchErrors counts the fetch errors and returns the first one the client
// will not get over by itself.
func (r *run) fetchErrors(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		err := fe.Err
		if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
			continue
		}
		where := fe.Topic + "/" + strconv.Itoa(int(fe.Partition))
		if fe.Topic == "" {
			where = "the group " + r.c.cfg.Group
		}
		err = fmt.Errorf("kafka source %q: fetching %s: %w", r.c.cfg.Name, where, err)
		var loss *kgo.ErrDataLoss
		var group *kgo.ErrGroupSession
		switch {
		case errors.As(err, &loss), kerr.IsRetriable(fe.Err),
			// The client rejoins the group by itself, unless it is refused.
			errors.As(err, &group) && !refused(group.Err):
			r.c.Error(err)
			r.c.log.Warn("fetch error", "err", err)
			continue
		}
		return err
	}
	return nil
}

// refused reports whether err is the brokers refusing the credentials or
// the access: retrying will not help.
func refused(err error) bool {
	for _, e := range []error{kerr.SaslAuthenticationFailed, kerr.GroupAuthorizationFailed,
		kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// chunk is a source.Chunk with its place in the book.
type chunk struct {
	source.Chunk
	p *pending
}

// chunks turns the fetched records into chunks of at most MaxChunkBytes
// (a larger message is a chunk of its own) and enters them in the book.
func (r *run) chunks(fetches kgo.Fetches) []chunk {
	var chunks []chunk
	var messages, size int64
	b := r.book
	b.mu.Lock()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		t := b.tracker(topicPartition{fp.Topic, fp.Partition}, fp.Records[0].Offset, fp.HighWatermark)
		recs := fp.Records
		for len(recs) > 0 {
			n, data := join(recs, r.c.cfg.MaxChunkBytes)
			first, last := recs[0], recs[n-1]
			recs = recs[n:]
			messages += int64(n)
			size += int64(len(data))
			p := b.add(t, first.Offset, last.Offset+1, last.LeaderEpoch, len(data) == 0)
			if len(data) == 0 {
				continue
			}
			chunks = append(chunks, chunk{
				Chunk: source.Chunk{
					Source: r.c.cfg.Name,
					Origin: "kafka " + fp.Topic + "/" + strconv.Itoa(int(fp.Partition)) + "@" + strconv.FormatInt(first.Offset, 10),
					Data:   data,
					Done:   r.doneFunc(p),
				},
				p: p,
			})
		}
	})
	b.mu.Unlock()
	if messages > 0 {
		r.c.Read(messages, size, r.c.cfg.Now())
	}
	return chunks
}

// join returns how many of recs (at least one) make a chunk of at most max
// bytes, and their values joined: each value ends with a newline, so that a
// value without one still ends its last record. Empty values (tombstones)
// add nothing.
func join(recs []*kgo.Record, max int) (int, []byte) {
	size, n := 0, 0
	for _, rec := range recs {
		l := len(rec.Value)
		if l > 0 && rec.Value[l-1] != '\n' {
			l++
		}
		if n > 0 && size+l > max {
			break
		}
		size += l
		n++
	}
	data := make([]byte, 0, size)
	for _, rec := range recs[:n] {
		if len(rec.Value) == 0 {
			continue
		}
		data = append(data, rec.Value...)
		if data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
	}
	return n, data
}

// doneFunc is the Done of p's chunk: the first call counts.
func (r *run) doneFunc(p *pending) func(source.Result) {
	var once atomic.Bool
	return func(res source.Result) {
		if once.Swap(true) {
			return
		}
		if err := r.book.finish(p, res.Err, r.c.cfg.Name); err != nil {
			r.cancel(err)
		}
		r.updateLag()
		for _, k := range []chan struct{}{r.kick, r.doneKick} {
			select {
			case k <- struct{}{}:
			default:
			}
		}
	}
}

// updateLag reports the lag while the Run is on; once it ended, the last
// figure stays until the next Run reports its own.
func (r *run) updateLag() {
	if n, ok := r.book.lag(); ok {
		r.c.SetLag(n)
	}
}

// drain waits up to grace for the chunks handed out to be done, or for
// one to fail.
func (r *run) drain(grace time.Duration) {
	if grace <= 0 {
		return
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for {
		n, fail := r.book.busy()
		if n == 0 || fail != nil {
			return
		}
		select {
		case <-r.doneKick:
		case <-timer.C:
			r.c.log.Warn("leaving the group with chunks not done; their messages will be read again", "chunks", n)
			return
		}
	}
}

// commitLoop commits the done prefixes each time a chunk is done, until
// stop is closed.
func (r *run) commitLoop(ctx context.Context, cl *kgo.Client, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-r.kick:
			cctx, cancel := context.WithTimeout(ctx, connectTimeout)
			r.commit(cctx, cl, nil)
			cancel()
		}
	}
}

// commit commits the done prefixes of the partitions in only (all when
// nil) and records what was committed. A failed commit is counted and
// logged; the next one carries its offsets.
func (r *run) commit(ctx context.Context, cl *kgo.Client, only map[string][]int32) {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	r.commitLocked(ctx, cl, only)
}

// commitLocked is commit with r.commitMu held.
func (r *run) commitLocked(ctx context.Context, cl *kgo.Client, only map[string][]int32) {
	offsets := r.book.committable(only)
	if len(offsets) == 0 {
		return
	}
	var errs []error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err))
					continue
				}
				if eo, ok := offsets[t.Topic][p.Partition]; ok {
					r.book.committed(topicPartition{t.Topic, p.Partition}, eo.Offset)
				}
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		err = fmt.Errorf("kafka source %q: committing offsets: %w", r.c.cfg.Name, err)
		r.c.Error(err)
		r.c.log.Warn("commit failed", "err", err)
		return
	}
	r.c.log.Debug("committed offsets", "offsets", offsets)
}

// revoked commits what is done of the partitions taken away and drops the
// rest: their chunks still in the pipeline are read again by the new owner.
func (r *run) revoked(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
	if len(ps) == 0 {
		return
	}
	r.commitMu.Lock()
	r.commitLocked(ctx, cl, ps)
	r.book.drop(ps)
	r.commitMu.Unlock()
	r.updateLag()
	r.c.log.Info("partitions revoked", "partitions", ps)
}

// lost drops the partitions the group took away without a chance to
// commit.
func (r *run) lost(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	if len(ps) == 0 {
		return
	}
	r.book.drop(ps)
	r.updateLag()
	r.c.log.Warn("partitions lost", "partitions", ps)
}

// kgoLogger passes the client's logs (info and above) to slog.
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case k.l.Enabled(ctx, slog.LevelInfo):
		return kgo.LogLevelInfo
	case k.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case k.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	l := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	case kgo.LogLevelInfo:
		l = slog.LevelInfo
	}
	k.l.Log(context.Background(), l, msg, keyvals...)
}

// hooks counts the client's connection errors, which it retries by
// itself, so that the pages show them.
type hooks struct{ c *Consumer }

var _ kgo.HookBrokerConnect = hooks{}

func (h hooks) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		return
	}
	err = fmt.Errorf("kafka source %q: connecting to %s: %w", h.c.cfg.Name, net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), err)
	h.c.Error(err)
	h.c.log.Warn("broker connection failed", "err", err)
}
