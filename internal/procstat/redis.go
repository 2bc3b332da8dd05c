package procstat

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCPU is the Redis server's user+sys CPU time so far (INFO cpu). The
// server may run elsewhere, so it is asked rather than read from /proc.
func RedisCPU(ctx context.Context, rdb *redis.Client) (time.Duration, error) {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("redis INFO cpu: %w", err)
	}
	return parseRedisCPU(info)
}

// parseRedisCPU sums used_cpu_user and used_cpu_sys, in seconds, of an
// INFO cpu answer.
func parseRedisCPU(info string) (time.Duration, error) {
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("redis INFO cpu: %s=%q", k, v)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second)), nil
}
