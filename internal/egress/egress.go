// Package egress decides which addresses the action plane may call for a
// tenant, at the moment it dials: a webhook target's URL names a host, but
// what counts is the address the host resolves to when the connection is
// made, so a name that resolves to an internal address (or changes to one
// between a check and the call) cannot reach it.
//
// Public unicast addresses are always allowed. Every other address —
// loopback, private (RFC 1918, fc00::/7), link-local (including the
// 169.254.169.254 cloud metadata service), shared (100.64.0.0/10),
// unspecified, multicast, reserved and documentation ranges — is refused
// unless it lies in a network the operator allowed for every tenant
// (Policy.Allow) or for the tenant of the call (Policy.TenantAllow).
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// RefusedError reports a destination the tenant may not reach.
type RefusedError struct {
	Host string
	Addr netip.Addr
}

func (e *RefusedError) Error() string {
	if e.Host == e.Addr.String() {
		return fmt.Sprintf("refused: %s is a %s address this tenant may not reach", e.Addr, Kind(e.Addr))
	}
	return fmt.Sprintf("refused: %s resolves to %s, a %s address this tenant may not reach", e.Host, e.Addr, Kind(e.Addr))
}

// nonPublic are the ranges that are not public unicast, beyond what
// netip.Addr's predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this" network
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: embeds any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4 address
}

// Kind names the class of a non-public address, or "public".
func Kind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return "reserved"
		}
	}
	return "public"
}

// Policy decides the addresses a call may reach.
type Policy struct {
	// Allow are networks every tenant may reach, beyond the public ones
	// (e.g. 127.0.0.0/8 for a development receiver).
	Allow []netip.Prefix
	// TenantAllow returns the networks the context's tenant may reach
	// beyond those; nil for none.
	TenantAllow func(ctx context.Context) ([]netip.Prefix, error)
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver *net.Resolver
	// Dialer dials the checked address (default: a net.Dialer with a 10s
	// timeout).
	Dialer *net.Dialer
}

// Check returns a *RefusedError unless addr may be reached in ctx.
func (p *Policy) Check(ctx context.Context, host string, addr netip.Addr) error {
	addr = addr.Unmap()
	if Kind(addr) == "public" || contains(p.Allow, addr) {
		return nil
	}
	if p.TenantAllow != nil {
		nets, err := p.TenantAllow(ctx)
		if err != nil {
			return fmt.Errorf("read the tenant's egress allow-list: %w", err)
		}
		if contains(nets, addr) {
			return nil
		}
	}
	return &RefusedError{Host: host, Addr: addr}
}

func contains(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// DialContext resolves addr's host, checks every address it resolves to,
// and dials the first allowed one, so the address checked is the address
// connected to. It is an http.Transport's DialContext; the request's
// context carries the tenant.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portText, err)
	}
	ips, err := p.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var first error
	for _, ip := range ips {
		if err := p.Check(ctx, host, ip); err != nil {
			first = cmpErr(first, err)
			continue
		}
		conn, err := p.dialer().DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		first = cmpErr(first, err)
	}
	if first == nil {
		first = fmt.Errorf("%s resolves to no address", host)
	}
	return nil, first
}

func (p *Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	return ips, nil
}

func (p *Policy) dialer() *net.Dialer {
	if p.Dialer != nil {
		return p.Dialer
	}
	return &net.Dialer{Timeout: 10 * time.Second}
}

// cmpErr keeps the first error, preferring a refusal, which says more
// than a failed dial to an address that was allowed.
func cmpErr(first, err error) error {
	var refused *RefusedError
	if first == nil || (errors.As(err, &refused) && !errors.As(first, &refused)) {
		return err
	}
	return first
}

// ParsePrefixes reads a comma-separated list of CIDRs or single addresses
// (a single address is its own /32 or /128).
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePrefix reads one CIDR or single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
