package lpconformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Visitor is the visitor side of chats, which the Chat Agent API does not
// have: the suite needs it to make chats ring.
type Visitor interface {
	// StartChat asks for a chat on a skill (an id) as a visitor called
	// name, and returns the chat's id as the Chat Agent API names it.
	StartChat(ctx context.Context, skillID, name string) (chatID string, err error)
	// Line writes a visitor line into the chat.
	Line(ctx context.Context, chatID, text string) error
	// End makes the visitor leave the chat.
	End(ctx context.Context, chatID string) error
}

// SimVisitor is a Visitor over lpsim's control API (internal/lpsim/doc.go,
// "Control API"): POST /sim/accounts/{acct}/chats, …/chats/{id}/lines and
// …/chats/{id}/end.
type SimVisitor struct {
	// ControlURL is the base the /sim/ paths hang off, e.g.
	// "http://127.0.0.1:8280". Required.
	ControlURL string
	// Account is the account id. Required.
	Account string
	// Client sends the requests; default a client with DefaultHTTPTimeout.
	Client *http.Client
}

// StartChat implements Visitor.
func (v *SimVisitor) StartChat(ctx context.Context, skillID, name string) (string, error) {
	var out struct {
		ChatID string `json:"chatId"`
	}
	if err := v.post(ctx, "chats", map[string]string{"skillId": skillID, "name": name}, &out); err != nil {
		return "", fmt.Errorf("visitor start chat: %w", err)
	}
	if out.ChatID == "" {
		return "", fmt.Errorf("visitor start chat: no chatId in the answer")
	}
	return out.ChatID, nil
}

// Line implements Visitor.
func (v *SimVisitor) Line(ctx context.Context, chatID, text string) error {
	if err := v.post(ctx, "chats/"+url.PathEscape(chatID)+"/lines", map[string]string{"text": text}, nil); err != nil {
		return fmt.Errorf("visitor line: %w", err)
	}
	return nil
}

// End implements Visitor.
func (v *SimVisitor) End(ctx context.Context, chatID string) error {
	if err := v.post(ctx, "chats/"+url.PathEscape(chatID)+"/end", struct{}{}, nil); err != nil {
		return fmt.Errorf("visitor end: %w", err)
	}
	return nil
}

func (v *SimVisitor) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	u := strings.TrimRight(v.ControlURL, "/") + "/sim/accounts/" + url.PathEscape(v.Account) + "/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := v.Client
	if hc == nil {
		hc = &http.Client{Timeout: DefaultHTTPTimeout} // the clean-ups' contexts are never cancelled
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return fmt.Errorf("POST %s: read: %w", u, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", u, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("POST %s: decode: %w", u, err)
		}
	}
	return nil
}
