package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// MarkerVar is the Rundeck option and AWX extra variable every launch
// carries, set to the action's ID. Neither server deduplicates launches, so
// before a retried launch the worker looks for a launch carrying the
// action's marker (an earlier attempt's, whose answer was lost to a
// timeout or a killed worker) and records it instead of launching again.
const MarkerVar = "alexus_action_id"

// Bounds of the search for an earlier launch: the pages read and their
// size (AWX's jobs created since the action, Rundeck's executions back to
// the action; a search that runs out of pages first does not launch), the
// most bytes one page may take (an AWX job is a few kilobytes of JSON, a
// Rundeck execution about half of one), and how much earlier than the
// action's creation a launch may be dated by a server whose clock runs
// behind ours.
const (
	earlierPages     = 5
	earlierPageSize  = 200
	earlierPageBytes = 4 << 20
	earlierClockSkew = 5 * time.Minute
)

// earlierLaunch looks for a launch of tg made for a by an earlier attempt.
// It returns the launch's description when it found one; a non-nil answer
// when the search could not be made and the attempt must end with it
// instead of launching (a retryable failure, a refused token); and neither
// when there is none, or when the server does not let the token list
// launches (then the attempt launches, noting that it could not check).
func (w *Worker) earlierLaunch(ctx context.Context, tg target, a action.Action) (found string, stop *job.Answer, note string) {
	var (
		next string
		err  error
	)
	switch tg.Kind {
	case provision.RunbookAWX:
		next, err = awxJobsURL(tg, a.CreatedAt.Add(-earlierClockSkew))
	case provision.RunbookRundeck:
		next, err = rundeckExecutionsURL(tg)
	default:
		return "", nil, ""
	}
	if err != nil {
		return "", &job.Answer{Result: "the search for an earlier launch could not be written: " + err.Error(), Verdict: job.Rejected}, ""
	}
	since := a.CreatedAt.Add(-earlierClockSkew)
	for page := 0; page < earlierPages && next != ""; page++ {
		var body []byte
		body, stop, note = w.get(ctx, tg, next)
		if stop != nil || note != "" {
			return "", stop, note
		}
		var perr error
		switch tg.Kind {
		case provision.RunbookAWX:
			found, next, perr = awxFind(body, a.ID, tg.URL)
		default:
			found, next, perr = rundeckFind(body, a.ID, next, since)
		}
		if perr != nil {
			// Not the listing asked for (a proxy's page, a cut-off body):
			// launching now could launch twice, so try again later.
			return "", &job.Answer{Result: "looking for an earlier launch: " + perr.Error(), Verdict: job.Retry}, ""
		}
		if found != "" {
			return found, nil, ""
		}
	}
	if next != "" {
		// The pages ran out before the launches since the action did: the
		// earlier launch may be further back, so launching could launch
		// twice.
		return "", &job.Answer{Result: fmt.Sprintf("looking for an earlier launch: more than %d launches since the action; not launching again without having seen them all", earlierPages*earlierPageSize), Verdict: job.Retry}, ""
	}
	return "", nil, ""
}

// get reads one page of launches and says what its answer means.
func (w *Worker) get(ctx context.Context, tg target, u string) (body []byte, stop *job.Answer, note string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return nil, &job.Answer{Result: "invalid runbook URL", Verdict: job.Rejected}, ""
	}
	req.Header.Set("Accept", "application/json")
	if tg.Kind == provision.RunbookRundeck {
		req.Header.Set("X-Rundeck-Auth-Token", string(tg.Credential))
	} else {
		req.Header.Set("Authorization", "Bearer "+string(tg.Credential))
	}
	resp, err := w.HTTP.Do(req)
	var ref *egress.RefusedError
	if errors.As(err, &ref) {
		return nil, &job.Answer{Result: ref.Error(), Verdict: job.Refused}, ""
	}
	if err != nil {
		return nil, &job.Answer{Result: "looking for an earlier launch: " + job.Describe(err, w.HTTPTimeout), Verdict: job.Retry}, ""
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, earlierPageBytes+1))
	if err != nil {
		return nil, &job.Answer{Result: "looking for an earlier launch: " + job.Describe(err, w.HTTPTimeout), Verdict: job.Retry}, ""
	}
	if len(raw) > earlierPageBytes {
		return nil, &job.Answer{Result: fmt.Sprintf("looking for an earlier launch: a page of launches is larger than %d bytes", earlierPageBytes), Verdict: job.Retry}, ""
	}
	code := resp.StatusCode
	result := "looking for an earlier launch: HTTP " + strconv.Itoa(code)
	switch {
	case code >= 200 && code < 300:
		return raw, nil, ""
	case code == http.StatusTooManyRequests:
		return nil, &job.Answer{Result: result, Verdict: job.RateLimited, Wait: job.RetryAfter(resp.Header.Get("Retry-After"), time.Now())}, ""
	case code == http.StatusRequestTimeout || code >= 500:
		return nil, &job.Answer{Result: result, Verdict: job.Retry}, ""
	case code == http.StatusUnauthorized:
		if text := job.Clip(string(raw)); text != "" {
			result += " " + text
		}
		return nil, &job.Answer{Result: result, Verdict: job.Rejected}, ""
	default:
		// The token may launch but not list (403), or the listing is not
		// there (404): launching is still what the action asks for.
		return nil, nil, "could not check for an earlier launch (HTTP " + strconv.Itoa(code) + ")"
	}
}

// awxJobsURL lists the template's jobs created since since, newest first.
func awxJobsURL(tg target, since time.Time) (string, error) {
	u, err := url.Parse(strings.TrimRight(tg.URL, "/") + "/api/v2/job_templates/" + url.PathEscape(tg.Job) + "/jobs/")
	if err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set("created__gte", since.UTC().Format(time.RFC3339))
	q.Set("order_by", "-id")
	q.Set("page_size", strconv.Itoa(earlierPageSize))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// awxFind finds the job whose extra_vars carry the marker in one page of
// AWX's job list, and the next page's URL. AWX gives "next" as a path; it
// is followed only on the registered host, so the token never goes
// elsewhere.
func awxFind(body []byte, actionID, base string) (found, next string, err error) {
	var page struct {
		Next    *string `json:"next"`
		Results *[]struct {
			ID        json.Number `json:"id"`
			ExtraVars string      `json:"extra_vars"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil || page.Results == nil {
		return "", "", errors.New("AWX's answer is not a list of jobs")
	}
	for _, j := range *page.Results {
		var vars map[string]any
		if json.Unmarshal([]byte(j.ExtraVars), &vars) == nil && vars[MarkerVar] == actionID {
			return "awx job " + j.ID.String(), "", nil
		}
	}
	if page.Next == nil || *page.Next == "" {
		return "", "", nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", "", err
	}
	n, err := b.Parse(*page.Next)
	if err != nil || n.Scheme != b.Scheme || n.Host != b.Host {
		return "", "", fmt.Errorf("AWX's next page %q is not on %s", *page.Next, b.Host)
	}
	return "", n.String(), nil
}

// rundeckExecutionsURL lists the job's executions, newest first.
func rundeckExecutionsURL(tg target) (string, error) {
	v := tg.APIVersion
	if v == 0 {
		v = provision.DefaultRundeckAPIVersion
	}
	u, err := url.Parse(strings.TrimRight(tg.URL, "/") + "/api/" + strconv.Itoa(v) + "/job/" + url.PathEscape(tg.Job) + "/executions")
	if err != nil {
		return "", err
	}
	u.RawQuery = url.Values{"max": {strconv.Itoa(earlierPageSize)}}.Encode()
	return u.String(), nil
}

// rundeckFind finds the execution whose argument string carries the marker
// option ("-alexus_action_id <id>") in a page of Rundeck's execution list
// (newest first), and the next page's URL while the page's executions
// reach back no further than since (their "date-started").
func rundeckFind(body []byte, actionID, page string, since time.Time) (found, next string, err error) {
	var list struct {
		Paging struct {
			Offset int `json:"offset"`
			Total  int `json:"total"`
		} `json:"paging"`
		Executions *[]struct {
			ID        json.Number `json:"id"`
			Argstring string      `json:"argstring"`
			Permalink string      `json:"permalink"`
			Started   struct {
				Unixtime int64 `json:"unixtime"`
			} `json:"date-started"`
		} `json:"executions"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Executions == nil {
		return "", "", errors.New("Rundeck's answer is not a list of executions")
	}
	execs := *list.Executions
	reachedBack := false
	for _, x := range execs {
		args := strings.Fields(x.Argstring)
		for k := 0; k+1 < len(args); k++ {
			if args[k] == "-"+MarkerVar && strings.Trim(args[k+1], `"'`) == actionID {
				return strings.TrimSpace(fmt.Sprintf("rundeck execution %s %s", x.ID, x.Permalink)), "", nil
			}
		}
		if x.Started.Unixtime > 0 && time.UnixMilli(x.Started.Unixtime).Before(since) {
			reachedBack = true
		}
	}
	end := list.Paging.Offset + len(execs)
	if reachedBack || len(execs) == 0 || end >= list.Paging.Total {
		return "", "", nil
	}
	u, err := url.Parse(page)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	q.Set("offset", strconv.Itoa(end))
	u.RawQuery = q.Encode()
	return "", u.String(), nil
}
