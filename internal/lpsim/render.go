package lpsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Time layouts: events and chat info use ISO-8601 with milliseconds and a
// numeric offset (§2.3); login errors use a human date (§4.4).
const (
	isoLayout   = "2006-01-02T15:04:05.000-07:00"
	humanLayout = "Jan 02, 2006 3:04:05 PM"
)

func isoTime(t time.Time) string { return t.Format(isoLayout) }

// link is a relation link; the simulator always uses the @ spelling.
type link struct {
	Href string `json:"@href"`
	Rel  string `json:"@rel"`
}

// linkDoc wraps a single link: {"link": {...}}.
type linkDoc struct {
	Link link `json:"link"`
}

// oneOrMany renders a repeated XML element: absent when empty (nil with
// omitempty), a bare object for one item, an array for two or more (§2.3).
func oneOrMany[T any](xs []T) any {
	switch len(xs) {
	case 0:
		return nil
	case 1:
		return xs[0]
	default:
		return xs
	}
}

// eventDoc is an event as the API shows it.
type eventDoc struct {
	ID              string          `json:"@id"`
	Type            string          `json:"@type"`
	Time            string          `json:"time"`
	State           string          `json:"state,omitempty"`
	TextType        string          `json:"textType,omitempty"`
	Text            *string         `json:"text,omitempty"`
	JSON            json.RawMessage `json:"json,omitempty"`
	By              string          `json:"by,omitempty"`
	Source          string          `json:"source,omitempty"`
	SystemMessageID int             `json:"systemMessageId,omitempty"`
	SubType         string          `json:"subType,omitempty"`
}

func (e event) doc() eventDoc {
	d := eventDoc{
		ID: strconv.Itoa(e.id), Type: e.typ, Time: isoTime(e.at), State: e.state,
		TextType: e.textType, JSON: e.json, By: e.by, Source: e.source,
		SystemMessageID: e.systemMessageID, SubType: e.subType,
	}
	if e.typ == "line" && (e.text != "" || e.json == nil) {
		text := e.text
		d.Text = &text
	}
	return d
}

// errorDoc is the error body of every non-2xx answer: the Login Service
// shape of §4.4, which §12 suggests for the Chat Agent API as well.
type errorDoc struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Time           string `json:"time"`
	Message        string `json:"message"`
	InternalCode   int    `json:"internalCode"`
	ResponseStatus string `json:"responseStatus"`
}

// Internal codes of error bodies: 10 is the documented bad-csrf code; every
// other error carries its HTTP status as internal code.
const codeBadCSRF = 10

// statusName spells a status like Java's HttpStatus enum (UNAUTHORIZED).
func statusName(status int) string {
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}
