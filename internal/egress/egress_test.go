package egress_test

import (
	"context"
	"errors"
	"github.com/alexus-platform/alexus/internal/tenant"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/egress"
)

func TestKind(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"8.8.8.8": "public", "2606:4700::1111": "public",
		"127.0.0.1": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"10.1.2.3": "private", "172.16.0.1": "private", "192.168.1.1": "private", "fd00::1": "private",
		"169.254.169.254": "link-local", "fe80::1": "link-local",
		"0.0.0.0": "unspecified", "::": "unspecified", "239.1.1.1": "multicast", "224.0.0.1": "link-local",
		"100.64.1.1": "reserved", "198.18.0.1": "reserved", "255.255.255.255": "reserved",
		"64:ff9b::a00:1": "reserved", "2002:a00:1::": "reserved",
	} {
		require.Equal(t, want, egress.Kind(netip.MustParseAddr(addr)), addr)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tenantNets := []netip.Prefix{netip.MustParsePrefix("10.0.5.0/24")}
	p := &egress.Policy{
		Allow:       []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		TenantAllow: func(context.Context) ([]netip.Prefix, error) { return tenantNets, nil },
	}
	ctx := context.Background()
	require.NoError(t, p.Check(ctx, "example.com", netip.MustParseAddr("93.184.216.34")))
	require.NoError(t, p.Check(ctx, "localhost", netip.MustParseAddr("127.0.0.1")), "allowed for every tenant")
	require.NoError(t, p.Check(ctx, "rundeck", netip.MustParseAddr("10.0.5.7")), "allowed for this tenant")
	var refused *egress.RefusedError
	err := p.Check(ctx, "metadata", netip.MustParseAddr("169.254.169.254"))
	require.ErrorAs(t, err, &refused)
	require.Equal(t, "refused: metadata resolves to 169.254.169.254, a link-local address this tenant may not reach", err.Error())
	require.ErrorAs(t, p.Check(ctx, "10.0.6.1", netip.MustParseAddr("10.0.6.1")), &refused, "outside the tenant's network")

	broken := &egress.Policy{TenantAllow: func(context.Context) ([]netip.Prefix, error) { return nil, errors.New("db down") }}
	err = broken.Check(ctx, "x", netip.MustParseAddr("10.0.0.1"))
	require.Error(t, err)
	require.False(t, errors.As(err, &refused), "an unreadable list is an error, not a refusal")
}

// The check is made on the address dialled: a host name that resolves to
// a loopback address is refused at connect time, and allowed once its
// network is allowed.
func TestDialChecksTheResolvedAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	get := func(p *egress.Policy) error {
		c := &http.Client{Transport: &http.Transport{DialContext: p.DialContext, Proxy: nil}}
		resp, err := c.Get("http://localhost:" + port + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	var refused *egress.RefusedError
	require.ErrorAs(t, get(&egress.Policy{}), &refused)
	require.Equal(t, "localhost", refused.Host)
	require.True(t, refused.Addr.IsLoopback())

	require.NoError(t, get(&egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}))
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	got, err := egress.ParsePrefixes(" 127.0.0.0/8, 10.0.5.7 ,::1,")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.5.7/32"), netip.MustParsePrefix("::1/128")}, got)
	_, err = egress.ParsePrefixes("10.0.0.0/33")
	require.Error(t, err)
	_, err = egress.ParsePrefixes("example.com")
	require.ErrorContains(t, err, "neither an address nor a CIDR")
}

// A connection dialled for one tenant is never reused for another: after
// acme, which may reach loopback, has a kept-alive connection to a
// receiver, globex, which may not, is still refused.
func TestClientsKeepTenantsConnectionsApart(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	p := &egress.Policy{TenantAllow: func(ctx context.Context) ([]netip.Prefix, error) {
		if id, _ := tenant.Require(ctx); id == "acme" {
			return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil
		}
		return nil, nil
	}}
	c := egress.NewClients(p, 5*time.Second)
	get := func(id tenant.ID) error {
		ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "test"})
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}
	require.NoError(t, get("acme"))
	require.NoError(t, get("acme"), "acme's connection is kept alive")
	var refused *egress.RefusedError
	require.ErrorAs(t, get("globex"), &refused)
	_, err := c.Do(&http.Request{})
	require.Error(t, err, "a request without a tenant is not sent")
}
