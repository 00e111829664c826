package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lpbridge/lpbridge/internal/events"
	"github.com/lpbridge/lpbridge/internal/state"
)

// agentReport is one line of `lpbridge agents`.
type agentReport struct {
	Account string `json:"account"`
	Agent   string `json:"agent"`
	// Owner is the lease holder ("" when nobody holds it or leases are off).
	Owner        string    `json:"owner,omitempty"`
	LeaseExpires time.Time `json:"leaseExpires,omitzero"`
	Status       string    `json:"status,omitempty"`
	Ringing      int       `json:"ringing"`
	// LastEvent is when the agent's newest event was stored. The bridge
	// stores no poll times; a polling agent publishes at least its
	// session and status, so this is the nearest fact ("unknown" if none).
	LastEvent time.Time `json:"lastEvent,omitzero"`
	Chats     []chatLag `json:"chats"`
}

// chatLag is one open chat: the per-chat seq its cursor saved against the
// newest seq of the chat in the stream. Lag > 0 means events went out whose
// cursor is not saved yet (they will be published again, and dropped as
// duplicates, if the bridge dies now).
type chatLag struct {
	ChatID    string `json:"chatId"`
	CursorSeq int64  `json:"cursorSeq"`
	StreamSeq int64  `json:"streamSeq"`
	Lag       int64  `json:"lag"`
}

// runAgents lists the agents the stream knows, their lease holder, last
// event and the cursor lag of their open chats.
func runAgents(ctx context.Context, c *cli, args []string) error {
	fs, natsURL := c.flags("agents", "[-json]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.connect(ctx, *natsURL); err != nil {
		return err
	}
	reports, err := c.agentReports(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tAGENT\tOWNER\tSTATUS\tRINGING\tLAST EVENT\tOPEN CHATS (cursor lag)")
	for _, r := range reports {
		owner := "none"
		if r.Owner != "" {
			owner = fmt.Sprintf("%s (lease %s)", r.Owner, until(r.LeaseExpires, now))
		}
		last := "unknown"
		if !r.LastEvent.IsZero() {
			last = fmt.Sprintf("%s (%s ago)", r.LastEvent.Local().Format("15:04:05"), now.Sub(r.LastEvent).Round(time.Second))
		}
		chats := make([]string, len(r.Chats))
		for i, ch := range r.Chats {
			chats[i] = fmt.Sprintf("%s (%d)", shortChat(ch.ChatID), ch.Lag)
		}
		status := r.Status
		if status == "" {
			status = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Account, r.Agent, owner, status, r.Ringing, last, strings.Join(chats, ", "))
	}
	return tw.Flush()
}

func until(t, now time.Time) string {
	if d := t.Sub(now).Round(time.Second); d > 0 {
		return "expires in " + d.String()
	}
	return "expired"
}

// agentReports builds the report from the stream (which agents, their
// newest event) and the KV buckets, bound read-only: a bucket that does not
// exist (leases off, bridge never ran) is left out, never created.
func (c *cli) agentReports(ctx context.Context) ([]agentReport, error) {
	st, err := c.stream(ctx)
	if err != nil {
		return nil, err
	}
	own := c.cfg.SubjectPrefix + ".evt."
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(own+"*.*.agent.>"))
	if err != nil {
		return nil, fmt.Errorf("event stream %s: %w", c.cfg.StreamName, err)
	}
	type key struct{ account, agent string }
	seen := map[key]bool{}
	for subj := range info.State.Subjects {
		parts := strings.SplitN(strings.TrimPrefix(subj, own), ".", 3)
		if len(parts) == 3 {
			seen[key{parts[0], parts[1]}] = true
		}
	}
	store, err := c.openState(ctx)
	if err != nil {
		return nil, err
	}
	leases, err := c.openLeases(ctx)
	if err != nil {
		return nil, err
	}
	reports := make([]agentReport, 0, len(seen))
	for k := range seen {
		r := agentReport{Account: k.account, Agent: k.agent, Chats: []chatLag{}}
		if m, err := st.GetLastMsgForSubject(ctx, own+k.account+"."+k.agent+".>"); err == nil {
			r.LastEvent = m.Time
		}
		if leases != nil {
			if rec, ok, err := leases.Holder(ctx, k.account, k.agent); err != nil {
				return nil, fmt.Errorf("agent %s lease: %w", k.agent, err)
			} else if ok {
				r.Owner, r.LeaseExpires = rec.Owner, rec.Expires
			}
		}
		if store != nil {
			if err := c.fillState(ctx, st, store, &r); err != nil {
				return nil, err
			}
		}
		reports = append(reports, r)
	}
	slices.SortFunc(reports, func(a, b agentReport) int {
		return strings.Compare(a.Account+"."+a.Agent, b.Account+"."+b.Agent)
	})
	return reports, nil
}

// fillState adds the agent's stored state and each open chat's cursor lag.
func (c *cli) fillState(ctx context.Context, st jetstream.Stream, store *state.Store, r *agentReport) error {
	as, ok, err := store.AgentState(ctx, r.Account, r.Agent)
	if err != nil {
		return fmt.Errorf("agent %s state: %w", r.Agent, err)
	}
	if !ok {
		return nil
	}
	r.Status, r.Ringing = as.Status, as.Ringing
	for _, id := range as.Chats {
		cur, _, err := store.Cursor(ctx, r.Account, r.Agent, id)
		if err != nil {
			return fmt.Errorf("chat %s cursor: %w", id, err)
		}
		lag := chatLag{ChatID: id, CursorSeq: cur.Seq}
		subj := c.cfg.SubjectPrefix + ".evt." + r.Account + "." + r.Agent + ".chat." + events.Token(id) + ".>"
		if m, err := st.GetLastMsgForSubject(ctx, subj); err == nil {
			if e, ok := decodeStored(&nats.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data}); ok {
				lag.StreamSeq = e.event.Seq
			}
		}
		lag.Lag = max(lag.StreamSeq-lag.CursorSeq, 0)
		r.Chats = append(r.Chats, lag)
	}
	return nil
}

// openState binds the cursors bucket if it exists (nil if not).
func (c *cli) openState(ctx context.Context) (*state.Store, error) {
	if ok, err := c.bucketExists(ctx, c.cfg.StateBucket); !ok || err != nil {
		return nil, err
	}
	s, err := state.Open(ctx, c.js, state.Config{Bucket: c.cfg.StateBucket, Replicas: c.cfg.StreamReplicas})
	if err != nil {
		return nil, fmt.Errorf("state bucket %s: %w", c.cfg.StateBucket, err)
	}
	return s, nil
}

// openLeases binds the lease bucket if it exists (nil if not).
func (c *cli) openLeases(ctx context.Context) (*state.Leases, error) {
	if ok, err := c.bucketExists(ctx, c.cfg.LeaseBucket); !ok || err != nil {
		return nil, err
	}
	ls, err := state.OpenLeases(ctx, c.js, state.LeasesConfig{Bucket: c.cfg.LeaseBucket, Replicas: c.cfg.StreamReplicas})
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", c.cfg.LeaseBucket, err)
	}
	return ls, nil
}

func (c *cli) bucketExists(ctx context.Context, bucket string) (bool, error) {
	_, err := c.js.KeyValue(ctx, bucket)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	return true, nil
}
