package lpchat

import (
	"context"
	"fmt"
)

// Budget is an allowance of requests shared by the clients of one account
// (DESIGN.md §4.5): LivePerson's patience is per account, not per agent.
// Wait blocks until one request may be sent or ctx is done. A
// *rate.Limiter (golang.org/x/time/rate) is a Budget.
type Budget interface {
	Wait(ctx context.Context) error
}

// waitBudget takes one request of the budget. A wait cut off by ctx is
// ctx's error, wrapped, so callers see context.Canceled or
// context.DeadlineExceeded with errors.Is. A Budget that refuses up front
// because the wait would outlast ctx's deadline (as rate.Limiter does)
// counts as that deadline too.
func (c *Client) waitBudget(ctx context.Context) error {
	if c.cfg.Budget == nil {
		return nil
	}
	err := c.cfg.Budget.Wait(ctx)
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("request budget: %w", ctxErr)
	}
	if _, ok := ctx.Deadline(); ok {
		return fmt.Errorf("request budget: %w: %w", context.DeadlineExceeded, err)
	}
	return fmt.Errorf("request budget: %w", err)
}
