package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// ceilingMaxBatch is the most XADDs one pipeline flush carries.
const ceilingMaxBatch = 128

// ceiling is the machine's ceiling for the same work without Alexus: a bare
// net/http server in this process whose handler reads the body and appends
// the same bytes to a Redis stream. Appends of concurrent requests are
// batched by one goroutine into go-redis pipelines, and each handler
// answers 202 once its own XADD has returned, so, like Alexus, nothing is
// acknowledged before Redis has it.
type ceiling struct {
	srv     *http.Server
	addr    string
	rdb     *redis.Client
	stream  string
	appends chan *appendReq
	quit    chan struct{}
	stopped chan struct{}
}

// appendReq is one handler's body waiting for its XADD.
type appendReq struct {
	body []byte
	done chan error
}

// startCeiling listens on a free loopback port and starts the batcher.
func startCeiling(redisURL string, namespace rediskey.Space) (*ceiling, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &ceiling{
		addr:    lis.Addr().String(),
		rdb:     redis.NewClient(opt),
		stream:  namespace.Tenant(tenant.ID(benchTenant), "ceiling"),
		appends: make(chan *appendReq, 4*ceilingMaxBatch),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/webhooks/{source}", c.handle)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go c.batch()
	go func() { _ = c.srv.Serve(lis) }()
	return c, nil
}

func (c *ceiling) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || len(body) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	req := &appendReq{body: body, done: make(chan error, 1)}
	select {
	case c.appends <- req:
	case <-r.Context().Done():
		return
	}
	if err := <-req.done; err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"results":[{"verdict":"accepted"}]}`)
}

// batch takes every append waiting (up to ceilingMaxBatch), sends them in
// one pipeline and answers each with its own command's result. While a
// pipeline is out, new appends queue up for the next one, so the batch
// size follows the load.
func (c *ceiling) batch() {
	defer close(c.stopped)
	ctx := context.Background()
	reqs := make([]*appendReq, 0, ceilingMaxBatch)
	cmds := make([]*redis.StringCmd, 0, ceilingMaxBatch)
	for {
		select {
		case first := <-c.appends:
			reqs = append(reqs[:0], first)
		case <-c.quit:
			return
		}
	drain:
		for len(reqs) < ceilingMaxBatch {
			select {
			case r := <-c.appends:
				reqs = append(reqs, r)
			default:
				break drain
			}
		}
		pipe := c.rdb.Pipeline()
		cmds = cmds[:0]
		for _, r := range reqs {
			cmds = append(cmds, pipe.XAdd(ctx, &redis.XAddArgs{Stream: c.stream, Values: []any{"event", r.body}}))
		}
		_, _ = pipe.Exec(ctx)
		for i, r := range reqs {
			r.done <- cmds[i].Err()
		}
	}
}

// length is the number of entries appended.
func (c *ceiling) length(ctx context.Context) (int64, error) {
	return c.rdb.XLen(ctx, c.stream).Result()
}

// close stops the server and the batcher and deletes the stream.
func (c *ceiling) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	close(c.quit)
	<-c.stopped
	err = errors.Join(err, c.rdb.Del(ctx, c.stream).Err())
	return errors.Join(err, c.rdb.Close())
}
