package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"vaultwatch/internal/event"
	"vaultwatch/internal/store"
)

// eventParams are the investigate filters.
var eventParams = []string{"ip", "object_id", "upn", "app_id", "principal", "vault", "object", "from", "to", "limit", "cursor"}

// EventFilters reads the investigate filters of a query (ip, object_id,
// upn, app_id, principal, vault, object, from, to, limit, cursor); unknown
// parameters and bad values are errors naming the parameter.
func EventFilters(r *http.Request) (store.EventQuery, error) {
	q := newQuery(r, eventParams...)
	eq := eventQuery(q)
	return eq, q.err()
}

func eventQuery(q *query) store.EventQuery {
	eq := store.EventQuery{
		IP:        q.ip("ip"),
		ObjectID:  q.str("object_id"),
		UPN:       q.str("upn"),
		AppID:     q.str("app_id"),
		Principal: q.str("principal"),
		Vault:     q.str("vault"),
		Object:    q.str("object"),
		From:      q.time("from"),
		To:        q.time("to"),
		Limit:     q.int("limit", 100, 1, 1000),
		Cursor:    q.str("cursor"),
	}
	if !eq.From.IsZero() && !eq.To.IsZero() && !eq.From.Before(eq.To) {
		q.fail("from", fmt.Errorf("%s is not before to (%s)", eq.From.Format(time.RFC3339), eq.To.Format(time.RFC3339)))
	}
	return eq
}

func (h *handlers) events(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, eventParams...)
	eq := eventQuery(q)
	if badQuery(w, q) {
		return
	}
	page, err := h.d.Store.Events(r.Context(), eq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if page.Events == nil {
		page.Events = []event.Event{}
	}
	writeJSON(w, http.StatusOK, page)
}

// CSVHeader is the first row of the events CSV.
var CSVHeader = []string{"time", "provider", "vault_id", "vault_name", "operation", "class",
	"object_kind", "object_name", "object_version", "outcome", "status", "reason",
	"caller_type", "principal", "object_id", "upn", "app_id", "display_name", "arn",
	"vault_entity_id", "principal_email", "ip", "host", "user_agent", "correlation_id"}

// CSVRow returns an event's CSV cells, in CSVHeader's order, each made
// safe for spreadsheets (see CSVCell).
func CSVRow(e *event.Event) []string {
	ip := ""
	if e.IP.IsValid() {
		ip = e.IP.String()
	}
	status := ""
	if e.Result.Status != 0 {
		status = strconv.Itoa(e.Result.Status)
	}
	row := []string{e.Time.UTC().Format(time.RFC3339Nano), string(e.Provider), e.Vault.ID, e.Vault.Name,
		e.Operation.Name, string(e.Operation.Class), string(e.Object.Kind), e.Object.Name, e.Object.Version,
		string(e.Result.Outcome), status, e.Result.Reason, string(e.Caller.Type), store.Principal(e),
		e.Caller.ObjectID, e.Caller.UPN, e.Caller.AppID, e.Caller.DisplayName, e.Caller.ARN,
		e.Caller.VaultEntityID, e.Caller.PrincipalEmail, ip, e.Host, e.UserAgent, e.CorrelationID}
	for i, c := range row {
		row[i] = CSVCell(c)
	}
	return row
}

// CSVCell makes a cell safe to open in a spreadsheet: a cell starting with
// =, +, -, @, a tab or a carriage return would be read as a formula, so it
// gets a leading apostrophe.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// csvPage is how many events the CSV export reads from the store at once.
const csvPage = 1000

func (h *handlers) eventsCSV(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r, eventParams...)
	eq := eventQuery(q)
	if badQuery(w, q) {
		return
	}
	eq.Limit = csvPage
	// The first page is read before answering, so that a bad cursor or a
	// failing store is still a proper error.
	page, err := h.d.Store.Events(r.Context(), eq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := "vaultwatch-events-" + h.d.Clock().UTC().Format("20060102T150405Z") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	rc := http.NewResponseController(w)
	flush := func() { _ = rc.Flush() } // a writer that cannot flush sends at the end
	if err := writeCSV(r.Context(), cw, h.d.Store, eq, page, flush); err != nil {
		// The header is out: the only honest answer left is to cut the
		// response short, so that the client sees it incomplete.
		h.d.Logger.Error("events CSV cut short", "component", "api", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// writeCSV writes the header and every event from page on, following the
// cursors, and calls flush after each page.
func writeCSV(ctx context.Context, cw *csv.Writer, s store.Store, eq store.EventQuery, page store.EventPage, flush func()) error {
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for {
		for i := range page.Events {
			if err := cw.Write(CSVRow(&page.Events[i])); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		flush()
		if page.Next == "" {
			return nil
		}
		eq.Cursor = page.Next
		var err error
		if page, err = s.Events(ctx, eq); err != nil {
			return err
		}
	}
}
