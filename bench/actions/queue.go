package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// webhookQueue is the River queue of webhook actions.
const webhookQueue = "webhook"

// queueControl pauses and resumes the plane's webhook queue through an
// insert-only River client of the benchmark's own, the way an operator
// would: the plane's producers hear of it at once through River's control
// notifications.
type queueControl struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
}

func newQueueControl(ctx context.Context, dbURL string) (*queueControl, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("queue control pool: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("queue control client: %w", err)
	}
	return &queueControl{pool: pool, client: client}, nil
}

func (q *queueControl) pause(ctx context.Context) error {
	if err := q.client.QueuePause(ctx, webhookQueue, nil); err != nil {
		return fmt.Errorf("pause the webhook queue: %w", err)
	}
	return nil
}

func (q *queueControl) resume(ctx context.Context) error {
	if err := q.client.QueueResume(ctx, webhookQueue, nil); err != nil {
		return fmt.Errorf("resume the webhook queue: %w", err)
	}
	return nil
}

func (q *queueControl) close() { q.pool.Close() }
