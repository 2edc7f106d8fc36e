package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AllowList is an explicit exception to the address guard's defaults, as an operator writes it in
// SWITCHYARD_ALLOWED_NETWORKS (serve) or the AllowedProviderCidrs template parameter (AWS): entries
// separated by commas or whitespace, each one of
//
//	10.20.0.0/16          a network (CIDR), any port
//	10.20.30.40           one address, any port
//	10.20.30.40:8443      one address and port; [fd00::1]:8443 for IPv6
//	hooks.internal:8443   one host name and port, trusted whatever it resolves to
//
// A host name entry is the only one judged before DNS: the operator vouches for the name, so the dial
// to whatever it resolves to is not checked. Every other connection is still judged on the address
// actually dialled.
type AllowList struct {
	CIDRs     []netip.Prefix
	AddrPorts []netip.AddrPort
	HostPorts []string // lower-case "host:port"
}

// maxAllowEntries bounds a list; a deployment with more exceptions than this wants a proxy, not a list.
const maxAllowEntries = 256

// ParseAllowList parses an allow-list setting; the empty string is the empty list.
func ParseAllowList(s string) (AllowList, error) {
	var l AllowList
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(fields) > maxAllowEntries {
		return AllowList{}, fmt.Errorf("at most %d entries, got %d", maxAllowEntries, len(fields))
	}
	for _, f := range fields {
		if err := l.add(f); err != nil {
			return AllowList{}, fmt.Errorf("%q: %w", f, err)
		}
	}
	return l, nil
}

func (l *AllowList) add(f string) error {
	if strings.Contains(f, "/") {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return fmt.Errorf("not a CIDR: %w", err)
		}
		l.CIDRs = append(l.CIDRs, p.Masked())
		return nil
	}
	if a, err := netip.ParseAddr(f); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("zoned addresses are not supported")
		}
		l.CIDRs = append(l.CIDRs, netip.PrefixFrom(a, a.BitLen()))
		return nil
	}
	host, port, err := net.SplitHostPort(f)
	if err != nil {
		return fmt.Errorf("not a CIDR, an IP address or host:port")
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return fmt.Errorf("port must be 1..65535")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("zoned addresses are not supported")
		}
		l.AddrPorts = append(l.AddrPorts, netip.AddrPortFrom(a, uint16(n)))
		return nil
	}
	if !validHostname(host) {
		return fmt.Errorf("%q is not a host name", host)
	}
	l.HostPorts = append(l.HostPorts, strings.ToLower(host)+":"+strconv.FormatUint(n, 10))
	return nil
}

// validHostname accepts DNS names: dot-separated labels of letters, digits and hyphens, not starting or
// ending with a hyphen, at most 253 characters.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// String renders the list in the syntax ParseAllowList reads.
func (l AllowList) String() string {
	var parts []string
	for _, p := range l.CIDRs {
		parts = append(parts, p.String())
	}
	for _, ap := range l.AddrPorts {
		parts = append(parts, ap.String())
	}
	parts = append(parts, l.HostPorts...)
	return strings.Join(parts, ",")
}

// Empty reports whether the list allows nothing beyond the defaults.
func (l AllowList) Empty() bool {
	return len(l.CIDRs) == 0 && len(l.AddrPorts) == 0 && len(l.HostPorts) == 0
}

// With returns a copy of g that also allows everything in l.
func (g *AddressGuard) With(l AllowList) *AddressGuard {
	out := g.clone()
	out.AllowCIDRs = append(out.AllowCIDRs, l.CIDRs...)
	out.AllowAddrPorts = append(out.AllowAddrPorts, l.AddrPorts...)
	out.AllowHostPorts = append(out.AllowHostPorts, l.HostPorts...)
	return out
}

// clone copies g deeply, so that a caller changing theirs later cannot race with dials; nil is the
// default guard.
func (g *AddressGuard) clone() *AddressGuard {
	if g == nil {
		return DefaultGuard()
	}
	c := *g
	c.AllowCIDRs = slices.Clone(g.AllowCIDRs)
	c.AllowAddrPorts = slices.Clone(g.AllowAddrPorts)
	c.AllowHostPorts = slices.Clone(g.AllowHostPorts)
	return &c
}

// hostAllowed reports whether "host:port" (as written in a URL, before DNS) is an allow-listed name.
func (g *AddressGuard) hostAllowed(hostport string) bool {
	return g != nil && len(g.AllowHostPorts) > 0 && slices.Contains(g.AllowHostPorts, strings.ToLower(hostport))
}

// CheckTarget is the check before any dial, for a URL's host and port: an IP literal is judged now (with
// its port), an allow-listed host name passes, and any other name passes here to be judged at dial time
// on the address it resolves to. port "" means the scheme's default, which the caller must fill in.
func (g *AddressGuard) CheckTarget(host, port string) error {
	if g.hostAllowed(net.JoinHostPort(host, port)) {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return g.Check(a)
	}
	return g.CheckAddrPort(netip.AddrPortFrom(a, uint16(n)))
}

// dialContext wraps d so that an allow-listed host name is dialled without the guard's Control (the
// operator vouched for it) and everything else through d, whose Control judges the dialled address.
func (g *AddressGuard) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if g == nil || len(g.AllowHostPorts) == 0 {
		return d.DialContext
	}
	trusted := *d
	trusted.Control = nil
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if g.hostAllowed(addr) {
			return trusted.DialContext(ctx, network, addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// NewGuardedTransport returns the transport the client uses, for other outbound callers that must obey
// the same guard (the system app's webhook action): every dial judged by g, no proxy, connect bounding
// dial and TLS handshake, response bounding the wait for response headers.
func NewGuardedTransport(g *AddressGuard, connect, response time.Duration) *http.Transport {
	return newTransport(g.clone(), connect, response)
}

// portOf is a URL's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
