package app

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/auditlog/record"
)

// PushOptions configure Push.
type PushOptions struct {
	Dir   string // log files, read recursively
	URL   string // the server, e.g. http://127.0.0.1:8080/
	Token string // an ingest token of an HTTP source
	// Batch is how many records go in one request (default 2,000).
	Batch  int
	Client *http.Client
	Stdout io.Writer
}

// PushResult counts what the server took.
type PushResult struct {
	Requests, Records, Events, Skipped, Malformed int
}

// Push sends the records of every log file under Dir to a running server's
// ingest endpoint in time order (the files of all providers merged, an
// hour at a time), so that the server's detectors see the traffic as it
// happened. A Vault request and its response stay in one request.
func Push(ctx context.Context, o PushOptions) (PushResult, error) {
	var res PushResult
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 2 * time.Minute}
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	endpoint := strings.TrimSuffix(o.URL, "/") + "/api/v1/ingest"
	tmp, err := os.MkdirTemp("", "vaultwatch-push")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	hours, err := bucketByHour(o.Dir, tmp)
	if err != nil {
		return res, err
	}
	var pending []pushRecord
	send := func(all bool) error {
		for len(pending) >= o.Batch || all && len(pending) > 0 {
			n := min(o.Batch, len(pending))
			for n < len(pending) && pending[n-1].request { // keep a Vault request with what follows it
				n++
			}
			var body bytes.Buffer
			zw := gzip.NewWriter(&body)
			for _, r := range pending[:n] {
				zw.Write(r.data)
				zw.Write([]byte{'\n'})
			}
			zw.Close()
			if err := postBatch(ctx, o, endpoint, body.Bytes(), &res); err != nil {
				return err
			}
			pending = pending[n:]
		}
		return nil
	}
	last := time.Now()
	for i, h := range hours {
		recs, err := readBucket(filepath.Join(tmp, strconv.FormatInt(h, 10)))
		if err != nil {
			return res, err
		}
		pending = append(pending, recs...)
		if err := send(i == len(hours)-1); err != nil {
			return res, err
		}
		if time.Since(last) > 2*time.Second || i == len(hours)-1 {
			last = time.Now()
			fmt.Fprintf(o.Stdout, "pushed up to %s: %d records, %d events\n", time.Unix(h*3600, 0).UTC().Add(time.Hour).Format("2006-01-02 15:04"), res.Records, res.Events)
		}
	}
	return res, nil
}

// postBatch sends one gzip body, retrying while the server is busy.
func postBatch(ctx context.Context, o PushOptions, endpoint string, body []byte, res *PushResult) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+o.Token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := o.Client.Do(req)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		var reply struct {
			Records, Events, Skipped, Malformed int
			Error                               string
		}
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 10:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
			}
			continue
		case resp.StatusCode >= 300 && resp.StatusCode != http.StatusBadRequest:
			return fmt.Errorf("push: %s answered %s: %s", endpoint, resp.Status, reply.Error)
		}
		res.Requests++
		res.Records += reply.Records
		res.Events += reply.Events
		res.Skipped += reply.Skipped
		res.Malformed += reply.Malformed
		return nil
	}
}

type pushRecord struct {
	t       time.Time
	request bool // a Vault request entry
	data    []byte
}

// bucketByHour copies every record under dir, compacted to one line and
// prefixed with its time, into a file per UTC hour under tmp, and returns
// the hours in order.
func bucketByHour(dir, tmp string) ([]int64, error) {
	files := map[int64]*bufio.Writer{}
	handles := map[int64]*os.File{}
	defer func() {
		for _, f := range handles {
			f.Close()
		}
	}()
	var p fastjson.Parser
	var line bytes.Buffer
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = bufio.NewReader(f)
		if head, _ := r.(*bufio.Reader).Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			zr, err := gzip.NewReader(r)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			r = zr
		}
		sc := auditlog.NewScanner(r, 0)
		for sc.Scan() {
			if sc.Err() != nil {
				continue // the server will not get what cannot be read
			}
			rec := sc.Record()
			v, err := p.ParseBytes(rec)
			if err != nil {
				continue
			}
			var t time.Time
			for _, k := range []string{"time", "eventTime", "timestamp", "TimeGenerated"} {
				if b := v.GetStringBytes(k); b != nil {
					if t, _ = record.ParseTime(b); !t.IsZero() {
						break
					}
				}
			}
			h := t.Unix() / 3600
			w := files[h]
			if w == nil {
				f, err := os.Create(filepath.Join(tmp, strconv.FormatInt(h, 10)))
				if err != nil {
					return err
				}
				handles[h] = f
				w = bufio.NewWriterSize(f, 64<<10)
				files[h] = w
			}
			line.Reset()
			if err := json.Compact(&line, rec); err != nil {
				continue
			}
			req := string(v.GetStringBytes("type")) == "request" && v.Get("request") != nil
			fmt.Fprintf(w, "%d %t ", t.UnixNano(), req)
			w.Write(line.Bytes())
			w.WriteByte('\n')
		}
		return sc.ReadErr()
	})
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	var hours []int64
	for h, w := range files {
		if err := w.Flush(); err != nil {
			return nil, err
		}
		hours = append(hours, h)
	}
	slices.Sort(hours)
	return hours, nil
}

// readBucket reads an hour's records back, sorted by time.
func readBucket(path string) ([]pushRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []pushRecord
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte{'\n'})
		b = rest
		ts, rest2, _ := bytes.Cut(line, []byte{' '})
		req, data, _ := bytes.Cut(rest2, []byte{' '})
		n, _ := strconv.ParseInt(string(ts), 10, 64)
		out = append(out, pushRecord{t: time.Unix(0, n), request: string(req) == "true", data: data})
	}
	slices.SortStableFunc(out, func(x, y pushRecord) int { return cmp.Compare(x.t.UnixNano(), y.t.UnixNano()) })
	return out, nil
}
