package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/notify"
)

// maxObjects is how many secrets a mail lists; the rest are counted.
const maxObjects = 20

// MessageID returns the Message-ID of notification id sent from domain:
// the same for every attempt, so that a server or a mail client can drop
// a message it already has.
func MessageID(id, domain string) string {
	sum := sha256.Sum256([]byte(id))
	return "<" + hex.EncodeToString(sum[:16]) + ".vaultwatch@" + domain + ">"
}

// Build returns the mail for n from from to n.Receiver: headers (From,
// To, Subject, Date from n.CreatedAt, Message-ID from n.ID) and a
// multipart/alternative body with a plain-text and an HTML part. baseURL,
// when not empty, links each alert of a digest to its page
// (baseURL/alerts/ID). The message is the same for every attempt.
func Build(n notify.Notification, from *mail.Address, baseURL string) ([]byte, error) {
	to, err := mail.ParseAddress(n.Receiver)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", HeaderText(n.Receiver), err)
	}
	if len(n.Alerts) == 0 {
		return nil, fmt.Errorf("notification %s has no alert", HeaderText(n.ID))
	}
	v := newView(n, baseURL)
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, v); err != nil {
		return nil, fmt.Errorf("plain-text body: %w", err)
	}
	if err := htmlTmpl.Execute(&html, v); err != nil {
		return nil, fmt.Errorf("HTML body: %w", err)
	}

	domain := "vaultwatch.invalid"
	if _, d, ok := strings.Cut(from.Address, "@"); ok && d != "" {
		domain = HeaderText(d)
	}
	var msg bytes.Buffer
	sum := sha256.Sum256([]byte(n.ID))
	boundary := "vaultwatch-" + hex.EncodeToString(sum[16:])
	date := n.CreatedAt
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	hdr := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, fold(len(k)+2, v)) }
	hdr("From", (&mail.Address{Name: HeaderText(from.Name), Address: HeaderText(from.Address)}).String())
	hdr("To", (&mail.Address{Address: HeaderText(to.Address)}).String())
	hdr("Subject", EncodeHeader(v.Subject))
	hdr("Date", date.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", MessageID(n.ID, domain))
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated")
	hdr("X-Vaultwatch-Id", EncodeHeader(n.ID))
	hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	msg.WriteString("\r\n")

	mw := multipart.NewWriter(&msg)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		typ  string
		body []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write(bytes.ReplaceAll(part.body, []byte("\n"), []byte("\r\n"))); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return msg.Bytes(), nil
}

// fold folds a header value at its spaces so that lines stay within 78
// characters where a word allows it (RFC 5322 2.2.3); used is the length
// of "Name: " on the first line. Encoded words are separated by spaces, so
// a long encoded subject folds between them.
func fold(used int, v string) string {
	const limit = 78
	var b strings.Builder
	line := used
	for i, w := range strings.Split(v, " ") {
		if i > 0 {
			if line+1+len(w) > limit {
				b.WriteString("\r\n ")
				line = 1
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// view is what the templates show; every string is alert data, escaped
// by the templates (HTML) or by bodyText (plain text).
type view struct {
	Subject string
	Sample  bool
	Digest  bool
	URL     string
	Alert   *alertView  // one alert
	Items   []alertView // a digest
}

type alertView struct {
	ID, Severity, Title, Vault, Window, Explanation, URL string
	Count                                                int
	IPs                                                  []ipView
	UPNs, AppIDs, Principals                             []string
	Objects                                              []objectView
	MoreObjects                                          int
	Step                                                 *stepView
}

type ipView struct{ Address, Classification string }

type objectView struct {
	Kind, Name, First, Last string
	Count                   int
}

type stepView struct {
	Title, Text string
	Commands    []string
}

func newView(n notify.Notification, baseURL string) view {
	v := view{Sample: n.Sample, Digest: n.Digest || len(n.Alerts) > 1, URL: n.URL}
	prefix := "[vaultwatch] "
	if n.Sample {
		prefix = "[vaultwatch sample] "
	}
	if v.Digest {
		v.Subject = fmt.Sprintf("%s%d alerts held back by the daily limit", prefix, len(n.Alerts))
		for i := range n.Alerts {
			av := summary(&n.Alerts[i])
			if baseURL != "" {
				av.URL = strings.TrimRight(baseURL, "/") + "/alerts/" + url.PathEscape(n.Alerts[i].ID)
			}
			v.Items = append(v.Items, av)
		}
		return v
	}
	a := &n.Alerts[0]
	av := summary(a)
	av.URL = n.URL
	av.Explanation = bodyText(a.Explanation)
	for _, ip := range a.Entities.IPs {
		av.IPs = append(av.IPs, ipView{bodyText(ip.Address), bodyText(strings.Join(ip.Classification, ", "))})
	}
	av.UPNs = cleanAll(a.Entities.UPNs)
	av.AppIDs = cleanAll(a.Entities.AppIDs)
	for _, l := range [][]string{a.Entities.ARNs, a.Entities.Principals, a.Entities.VaultEntities} {
		av.Principals = append(av.Principals, cleanAll(l)...)
	}
	for i, o := range a.Evidence.Objects {
		if i == maxObjects {
			av.MoreObjects = len(a.Evidence.Objects) - maxObjects
			break
		}
		av.Objects = append(av.Objects, objectView{bodyText(o.Kind), bodyText(o.Name), stamp(o.First), stamp(o.Last), o.Count})
	}
	if len(a.Remediation) > 0 {
		s := a.Remediation[0]
		av.Step = &stepView{Title: bodyText(s.Title), Text: bodyText(s.Text), Commands: cleanAll(s.Commands)}
	}
	v.Alert = &av
	v.Subject = fmt.Sprintf("%s%s: %s on %s", prefix, strings.ToUpper(av.Severity), av.Title, av.Vault)
	return v
}

func summary(a *alert.Alert) alertView {
	title := a.Title
	if title == "" {
		title = string(a.Type)
	}
	vault := a.Vault.Name
	if vault == "" {
		vault = a.Vault.ID
	}
	return alertView{
		ID: bodyText(a.ID), Severity: bodyText(string(a.Severity)), Title: bodyText(title),
		Vault: bodyText(vault), Window: window(a.StartTime, a.EndTime), Count: a.Count,
	}
}

func cleanAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = bodyText(s)
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func window(start, end time.Time) string {
	if end.IsZero() || end.Equal(start) {
		return stamp(start)
	}
	return stamp(start) + " to " + stamp(end)
}

const textSource = `{{if .Sample}}This is a sample notification sent to check the configuration.

{{end}}{{if .Digest}}{{len .Items}} alerts were held back by the daily limit:
{{range .Items}}
- {{.Severity}}  {{.Title}}  {{.Vault}}  {{.Window}}{{if .URL}}  {{.URL}}{{end}}{{end}}
{{if .URL}}
All alerts: {{.URL}}
{{end}}{{else}}{{with .Alert}}{{.Severity}}: {{.Title}}
Vault: {{.Vault}}
When: {{.Window}} ({{.Count}} events)

{{.Explanation}}
{{if .IPs}}
Addresses:{{range .IPs}}
  {{.Address}}{{if .Classification}} ({{.Classification}}){{end}}{{end}}
{{end}}{{if .UPNs}}Users: {{join .UPNs}}
{{end}}{{if .AppIDs}}Applications: {{join .AppIDs}}
{{end}}{{if .Principals}}Principals: {{join .Principals}}
{{end}}{{if .Objects}}
Secrets touched:{{range .Objects}}
  {{.Name}} ({{.Kind}}): {{.Count}} calls, {{.First}} to {{.Last}}{{end}}{{if .MoreObjects}}
  and {{.MoreObjects}} more{{end}}
{{end}}{{with .Step}}
First step: {{.Title}}
{{.Text}}
{{range .Commands}}
    {{.}}
{{end}}{{end}}{{if .URL}}
Open the alert: {{.URL}}
{{end}}{{end}}{{end}}`

const htmlSource = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif">
{{if .Sample}}<p><em>This is a sample notification sent to check the configuration.</em></p>
{{end}}{{if .Digest}}<p>{{len .Items}} alerts were held back by the daily limit:</p>
<ul>
{{range .Items}}<li><strong>{{.Severity}}</strong> {{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}} on {{.Vault}}, {{.Window}}</li>
{{end}}</ul>
{{if .URL}}<p><a href="{{.URL}}">All alerts</a></p>
{{end}}{{else}}{{with .Alert}}<h2>{{.Severity}}: {{.Title}}</h2>
<p>Vault: <strong>{{.Vault}}</strong><br>When: {{.Window}} ({{.Count}} events)</p>
<p>{{.Explanation}}</p>
{{if .IPs}}<p>Addresses:</p><ul>
{{range .IPs}}<li>{{.Address}}{{if .Classification}} ({{.Classification}}){{end}}</li>
{{end}}</ul>
{{end}}{{if .UPNs}}<p>Users: {{join .UPNs}}</p>
{{end}}{{if .AppIDs}}<p>Applications: {{join .AppIDs}}</p>
{{end}}{{if .Principals}}<p>Principals: {{join .Principals}}</p>
{{end}}{{if .Objects}}<table border="1" cellpadding="4" style="border-collapse: collapse">
<tr><th>Secret</th><th>Kind</th><th>First</th><th>Last</th><th>Count</th></tr>
{{range .Objects}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{.First}}</td><td>{{.Last}}</td><td>{{.Count}}</td></tr>
{{end}}</table>
{{if .MoreObjects}}<p>and {{.MoreObjects}} more</p>
{{end}}{{end}}{{with .Step}}<h3>First step: {{.Title}}</h3>
<p>{{.Text}}</p>
{{range .Commands}}<pre>{{.}}</pre>
{{end}}{{end}}{{if .URL}}<p><a href="{{.URL}}">Open the alert</a></p>
{{end}}{{end}}{{end}}</body></html>
`

var funcs = map[string]any{"join": func(l []string) string { return strings.Join(l, ", ") }}

var (
	textTmpl = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(textSource))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(htmlSource))
)
