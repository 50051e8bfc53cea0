package kafka

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// EventHubsPort is the port of an Event Hubs namespace's Kafka endpoint.
const EventHubsPort = "9093"

// EventHubsConnection is a parsed Azure Event Hubs connection string.
type EventHubsConnection struct {
	// Host is the namespace's host, "NAMESPACE.servicebus.windows.net".
	Host string
	// KeyName is the shared access policy's name.
	KeyName string
	// EntityPath is the event hub, when the string is an event hub's
	// rather than the namespace's.
	EntityPath string
	// Key is the shared access key.
	Key Secret
}

// Broker is the namespace's Kafka endpoint, "HOST:9093".
func (c EventHubsConnection) Broker() string { return net.JoinHostPort(c.Host, EventHubsPort) }

// ErrConnectionString marks a malformed Event Hubs connection string.
var ErrConnectionString = errors.New("invalid Event Hubs connection string")

// ParseEventHubsConnectionString reads an Azure Event Hubs connection
// string: semicolon-separated Key=Value parts, with Endpoint
// (sb://NAMESPACE.servicebus.windows.net/), SharedAccessKeyName and
// SharedAccessKey required and EntityPath optional; key names are matched
// ignoring case and other parts are ignored. Its errors name the part that
// is wrong and never quote the string.
func ParseEventHubsConnectionString(s string) (EventHubsConnection, error) {
	var c EventHubsConnection
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConnectionString}, args...)...))
	}
	var endpoint string
	var sawEndpoint, sawKeyName, sawKey bool
	for i, part := range strings.Split(strings.TrimSpace(s), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			bad("part %d is not Key=Value", i+1)
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "endpoint":
			endpoint, sawEndpoint = strings.TrimSpace(v), true
		case "sharedaccesskeyname":
			c.KeyName, sawKeyName = strings.TrimSpace(v), true
		case "sharedaccesskey":
			// The key is base64 and may end in '='; Cut split at the first.
			c.Key, sawKey = Secret(strings.TrimSpace(v)), true
		case "entitypath":
			c.EntityPath = strings.TrimSpace(v)
		}
	}
	switch {
	case !sawEndpoint:
		bad("Endpoint is missing")
	case endpoint == "":
		bad("Endpoint is empty")
	default:
		u, err := url.Parse(endpoint)
		switch {
		case err != nil:
			bad("Endpoint is not a URL")
		case u.Scheme != "sb":
			bad("Endpoint does not start with sb://")
		case u.Hostname() == "":
			bad("Endpoint names no host")
		default:
			c.Host = u.Hostname()
		}
	}
	if !sawKeyName || c.KeyName == "" {
		bad("SharedAccessKeyName is missing")
	}
	if !sawKey || c.Key == "" {
		bad("SharedAccessKey is missing")
	}
	if err := errors.Join(errs...); err != nil {
		return EventHubsConnection{}, err
	}
	return c, nil
}
