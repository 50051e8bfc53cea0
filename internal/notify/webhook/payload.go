package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/notify"
)

// Version is the generic payload's version; a change that breaks
// receivers gets a new one.
const Version = "vaultwatch.webhook/v1"

// GenericPayload is the generic webhook's body.
type GenericPayload struct {
	Version   string        `json:"version"`
	ID        string        `json:"id"` // the idempotency key
	Receiver  string        `json:"receiver"`
	Sample    bool          `json:"sample"`
	Digest    bool          `json:"digest"`
	CreatedAt time.Time     `json:"created_at"`
	Alerts    []alert.Alert `json:"alerts"`
	URL       string        `json:"url,omitempty"`
}

// maxListed bounds the secrets or digest lines a chat message lists.
const maxListed = 10

// Payload returns n's body in the format of typ. baseURL, when set, links
// each alert of a digest to its page.
func Payload(typ Type, n notify.Notification, baseURL string) ([]byte, error) {
	if len(n.Alerts) == 0 {
		return nil, errors.New("no alert")
	}
	switch typ {
	case Generic, "":
		return marshal(GenericPayload{Version: Version, ID: n.ID, Receiver: n.Receiver, Sample: n.Sample,
			Digest: n.Digest, CreatedAt: n.CreatedAt.UTC(), Alerts: n.Alerts, URL: n.URL})
	case Slack:
		return marshal(slackMessage(n, baseURL))
	case Teams:
		return marshal(teamsMessage(n, baseURL))
	}
	return nil, fmt.Errorf("unknown webhook type %q", typ)
}

// marshal is json.Marshal without HTML escaping (&, < and > stay as they
// are: Slack's escapes must reach Slack as written) and without the
// trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// summary is what a chat message says of one alert.
type summary struct {
	Severity, Title, Vault, Window, Who, Address, Explanation string
	Count                                                     int
	Objects                                                   []string
	MoreObjects                                               int
	Step                                                      *alert.Step
}

func summarize(a *alert.Alert) summary {
	s := summary{Severity: strings.ToUpper(string(a.Severity)), Title: a.Title, Vault: a.Vault.Name,
		Window: window(a.StartTime, a.EndTime), Explanation: a.Explanation, Count: a.Count}
	if s.Title == "" {
		s.Title = string(a.Type)
	}
	if s.Vault == "" {
		s.Vault = a.Vault.ID
	}
	e := &a.Entities
	for _, l := range [][]string{e.UPNs, e.DisplayNames, e.Principals, e.ARNs, e.AppIDs, e.VaultEntities, e.ObjectIDs} {
		if len(l) > 0 {
			s.Who = l[0]
			if len(l) > 1 {
				s.Who += fmt.Sprintf(" (+%d)", len(l)-1)
			}
			break
		}
	}
	if len(e.IPs) > 0 {
		s.Address = e.IPs[0].Address
		if len(e.IPs[0].Classification) > 0 {
			s.Address += " (" + strings.Join(e.IPs[0].Classification, ", ") + ")"
		}
		if len(e.IPs) > 1 {
			s.Address += fmt.Sprintf(" +%d", len(e.IPs)-1)
		}
	}
	for i, o := range a.Evidence.Objects {
		if i == maxListed {
			s.MoreObjects = len(a.Evidence.Objects) - maxListed
			break
		}
		s.Objects = append(s.Objects, fmt.Sprintf("%s (%d)", o.Name, o.Count))
	}
	if len(a.Remediation) > 0 {
		s.Step = &a.Remediation[0]
	}
	return s
}

func window(start, end time.Time) string {
	const f = "2006-01-02 15:04Z"
	if end.IsZero() || end.Equal(start) {
		return start.UTC().Format(f)
	}
	return start.UTC().Format(f) + " to " + end.UTC().Format(f)
}

func headline(n notify.Notification) string {
	prefix := ""
	if n.Sample {
		prefix = "[sample] "
	}
	if n.Digest || len(n.Alerts) > 1 {
		return fmt.Sprintf("%s%d vaultwatch alerts held back by the daily limit", prefix, len(n.Alerts))
	}
	s := summarize(&n.Alerts[0])
	return fmt.Sprintf("%s%s: %s on %s", prefix, s.Severity, s.Title, s.Vault)
}

func alertLink(baseURL, id string) string {
	if baseURL == "" {
		return ""
	}
	return strings.TrimRight(baseURL, "/") + "/alerts/" + url.PathEscape(id)
}

// truncate cuts s to at most max runes, ending a cut text with "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// Slack: an incoming-webhook message with Block Kit blocks and a text
// fallback for notifications.

type slackMsg struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackButton struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
	URL  string    `json:"url"`
}

// SlackEscape escapes the characters Slack's mrkdwn gives a meaning to
// beyond formatting: &, < and > (so alert text cannot make links or
// mentions).
func SlackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mrkdwn(s string) slackText { return slackText{Type: "mrkdwn", Text: truncate(s, 2000)} }

func slackMessage(n notify.Notification, baseURL string) slackMsg {
	head := headline(n)
	msg := slackMsg{Text: SlackEscape(head)}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(head, 150), Emoji: true}})
	label := "Open the alert"
	if n.Digest || len(n.Alerts) > 1 {
		label = "Open the alerts"
		var lines []string
		for i := range n.Alerts {
			if i == maxListed {
				lines = append(lines, fmt.Sprintf("and %d more", len(n.Alerts)-maxListed))
				break
			}
			a := &n.Alerts[i]
			s := summarize(a)
			title := SlackEscape(s.Title)
			if l := alertLink(baseURL, a.ID); l != "" {
				title = "<" + SlackEscape(l) + "|" + title + ">"
			}
			lines = append(lines, fmt.Sprintf("• *%s* %s on %s, %s", s.Severity, title, SlackEscape(s.Vault), s.Window))
		}
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(strings.Join(lines, "\n"), 3000)}})
	} else {
		s := summarize(&n.Alerts[0])
		msg.Text = SlackEscape(head + ". " + s.Explanation)
		fields := []slackText{mrkdwn("*Vault*\n" + SlackEscape(s.Vault)), mrkdwn("*When*\n" + s.Window)}
		if s.Who != "" {
			fields = append(fields, mrkdwn("*Who*\n"+SlackEscape(s.Who)))
		}
		if s.Address != "" {
			fields = append(fields, mrkdwn("*Address*\n"+SlackEscape(s.Address)))
		}
		fields = append(fields, mrkdwn(fmt.Sprintf("*Events*\n%d", s.Count)))
		if len(s.Objects) > 0 {
			t := SlackEscape(strings.Join(s.Objects, ", "))
			if s.MoreObjects > 0 {
				t += fmt.Sprintf(" and %d more", s.MoreObjects)
			}
			fields = append(fields, mrkdwn("*Secrets touched*\n"+t))
		}
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(SlackEscape(s.Explanation), 3000)}, Fields: fields})
		if s.Step != nil {
			t := "*First step: " + SlackEscape(s.Step.Title) + "*\n" + SlackEscape(s.Step.Text)
			if len(s.Step.Commands) > 0 {
				t += "\n```" + SlackEscape(strings.Join(s.Step.Commands, "\n")) + "```"
			}
			msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(t, 3000)}})
		}
	}
	ctx := "vaultwatch"
	if len(n.Alerts) == 1 {
		ctx += " · " + SlackEscape(n.Alerts[0].ID) + " · " + SlackEscape(string(n.Alerts[0].Type))
	}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []any{slackText{Type: "mrkdwn", Text: ctx}}})
	if n.URL != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "actions", Elements: []any{
			slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: label}, URL: n.URL},
		}})
	}
	return msg
}

// Teams: a Workflows (Power Automate) "post to a channel when a webhook
// request is received" message with one Adaptive Card 1.4 attachment.

type teamsMsg struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"`
	Version string           `json:"version"`
	Body    []map[string]any `json:"body"`
	Actions []map[string]any `json:"actions,omitempty"`
	MSTeams map[string]any   `json:"msteams,omitempty"`
}

// teamsText keeps alert text from making Markdown links in a TextBlock.
func teamsText(s string) string {
	return strings.ReplaceAll(s, "](", "] (")
}

func textBlock(text string, extra map[string]any) map[string]any {
	b := map[string]any{"type": "TextBlock", "text": text, "wrap": true}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func teamsMessage(n notify.Notification, baseURL string) teamsMsg {
	head := headline(n)
	color := "Default"
	if len(n.Alerts) == 1 && n.Alerts[0].Severity == alert.SeverityHigh {
		color = "Attention"
	} else if len(n.Alerts) == 1 && n.Alerts[0].Severity == alert.SeverityMedium {
		color = "Warning"
	}
	card := teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		MSTeams: map[string]any{"width": "Full"}}
	card.Body = append(card.Body, textBlock(teamsText(head), map[string]any{"size": "Large", "weight": "Bolder", "color": color}))
	label := "Open the alert"
	if n.Digest || len(n.Alerts) > 1 {
		label = "Open the alerts"
		var facts []map[string]any
		for i := range n.Alerts {
			if i == maxListed {
				facts = append(facts, map[string]any{"title": "…", "value": fmt.Sprintf("and %d more", len(n.Alerts)-maxListed)})
				break
			}
			s := summarize(&n.Alerts[i])
			v := teamsText(s.Title + " on " + s.Vault + ", " + s.Window)
			if l := alertLink(baseURL, n.Alerts[i].ID); l != "" {
				v += " (" + l + ")"
			}
			facts = append(facts, map[string]any{"title": s.Severity, "value": v})
		}
		card.Body = append(card.Body, map[string]any{"type": "FactSet", "facts": facts})
	} else {
		s := summarize(&n.Alerts[0])
		card.Body = append(card.Body, textBlock(teamsText(s.Explanation), nil))
		facts := []map[string]any{{"title": "Vault", "value": teamsText(s.Vault)}, {"title": "When", "value": s.Window}}
		if s.Who != "" {
			facts = append(facts, map[string]any{"title": "Who", "value": teamsText(s.Who)})
		}
		if s.Address != "" {
			facts = append(facts, map[string]any{"title": "Address", "value": teamsText(s.Address)})
		}
		facts = append(facts, map[string]any{"title": "Events", "value": fmt.Sprint(s.Count)})
		if len(s.Objects) > 0 {
			t := strings.Join(s.Objects, ", ")
			if s.MoreObjects > 0 {
				t += fmt.Sprintf(" and %d more", s.MoreObjects)
			}
			facts = append(facts, map[string]any{"title": "Secrets touched", "value": teamsText(t)})
		}
		card.Body = append(card.Body, map[string]any{"type": "FactSet", "facts": facts})
		if s.Step != nil {
			card.Body = append(card.Body,
				textBlock("First step: "+teamsText(s.Step.Title), map[string]any{"weight": "Bolder", "spacing": "Medium"}),
				textBlock(teamsText(s.Step.Text), nil))
			for _, c := range s.Step.Commands {
				card.Body = append(card.Body, textBlock(teamsText(c), map[string]any{"fontType": "Monospace"}))
			}
		}
	}
	if n.URL != "" {
		card.Actions = []map[string]any{{"type": "Action.OpenUrl", "title": label, "url": n.URL}}
	}
	return teamsMsg{Type: "message", Attachments: []teamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}
