package provider

import (
	"fmt"
	"net/netip"
	"syscall"
)

// AddressGuard decides which addresses the client may connect to. Its zero value — what
// DefaultGuard returns — allows public unicast addresses only: loopback, private (RFC 1918, unique
// local fc00::/7, site-local fec0::/10, CGNAT 100.64.0.0/10), link-local, cloud metadata,
// unspecified, multicast and reserved addresses are denied, as are IPv4-mapped, IPv4-compatible,
// NAT64 and 6to4 IPv6 forms of them.
//
// The guard must not be changed after it is passed to NewClient.
type AddressGuard struct {
	// AllowLoopback permits 127.0.0.0/8 and ::1 (tests; a provider on the same machine).
	AllowLoopback bool
	// AllowPrivate permits RFC 1918, unique-local, site-local and CGNAT addresses (self-hosted
	// deployments whose providers live on the LAN or a tailnet). Cloud metadata addresses in those
	// ranges stay denied.
	AllowPrivate bool
	// AllowCIDRs permits any address inside one of the prefixes, whatever its class — including
	// link-local and metadata addresses, so list them only deliberately.
	AllowCIDRs []netip.Prefix
	// AllowAddrPorts permits exactly these address and port pairs, whatever the address's class.
	AllowAddrPorts []netip.AddrPort
	// AllowHostPorts permits these lower-case "host:port" names as written in a URL, whatever they
	// resolve to: the dial of an allow-listed name skips Control (see AllowList).
	AllowHostPorts []string
}

// DefaultGuard returns the guard used when Options.Guard is nil: public addresses only.
func DefaultGuard() *AddressGuard { return &AddressGuard{} }

// BlockedError is returned by the guard; the client reports it as an *Error of kind Blocked.
type BlockedError struct {
	Address string // what was refused, as dialled or as written in the URI
	Reason  string // e.g. "a loopback address"
}

func (e *BlockedError) Error() string { return fmt.Sprintf("%s is %s", e.Address, e.Reason) }

// Control is a net.Dialer.Control function: it sees the resolved address of every connection the
// dialer makes, so it also catches DNS rebinding and hostnames that resolve to internal addresses.
func (g *AddressGuard) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return &BlockedError{Address: address, Reason: "not a TCP address (" + network + ")"}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Address: address, Reason: "not an IP address and port"}
	}
	return g.CheckAddrPort(ap)
}

// CheckAddrPort is Check for a connection to a port: an allow-listed address and port passes whatever
// the address's class.
func (g *AddressGuard) CheckAddrPort(ap netip.AddrPort) error {
	if g != nil && len(g.AllowAddrPorts) > 0 {
		plain := netip.AddrPortFrom(ap.Addr().WithZone("").Unmap(), ap.Port())
		for _, allowed := range g.AllowAddrPorts {
			if allowed.Port() == plain.Port() && allowed.Addr().Unmap() == plain.Addr() {
				return nil
			}
		}
	}
	return g.Check(ap.Addr())
}

// Check returns a *BlockedError if the guard denies a, nil if it allows it.
func (g *AddressGuard) Check(a netip.Addr) error {
	if !a.IsValid() {
		return &BlockedError{Address: "invalid address", Reason: "not an IP address"}
	}
	plain := a.WithZone("")
	if g != nil {
		unmapped := plain.Unmap()
		for _, p := range g.AllowCIDRs {
			if p.Contains(plain) || p.Contains(unmapped) {
				return nil
			}
		}
	}
	class, reason := classify(plain)
	switch {
	case class == classPublic,
		class == classLoopback && g != nil && g.AllowLoopback,
		class == classPrivate && g != nil && g.AllowPrivate:
		return nil
	}
	return &BlockedError{Address: a.String(), Reason: reason}
}

type addrClass int

const (
	classPublic addrClass = iota
	classLoopback
	classPrivate
	classDenied // never allowed except through AllowCIDRs
)

var (
	// Cloud metadata and host-agent endpoints. Most are link-local anyway; listing them keeps them
	// denied when they sit in a range AllowPrivate opens (fd00:ec2::/64, 100.100.100.200) or in
	// public space (Azure's wireserver).
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, Oracle…
		netip.MustParseAddr("169.254.170.2"),   // ECS task metadata
		netip.MustParseAddr("169.254.170.23"),  // EKS pod identity
		netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
		netip.MustParseAddr("fd00:ec2::23"),    // EKS pod identity over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
		netip.MustParseAddr("168.63.129.16"),   // Azure wireserver
	}
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")
	reserved4    = netip.MustParsePrefix("240.0.0.0/4") // includes 255.255.255.255
	siteLocal6   = netip.MustParsePrefix("fec0::/10")
	v4Compatible = netip.MustParsePrefix("::/96")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
)

// classify sorts an address (without zone) into the class the guard rules are written against.
func classify(a netip.Addr) (addrClass, string) {
	a = a.Unmap()
	if a.Is6() {
		if v4, ok := embeddedIPv4(a); ok {
			class, reason := classify(v4)
			if class == classPublic {
				return classPublic, ""
			}
			return class, reason + " (embeds " + v4.String() + ")"
		}
	}
	for _, m := range metadataAddrs {
		if a == m {
			return classDenied, "a cloud metadata address"
		}
	}
	switch {
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return classDenied, "an unspecified address"
	case a.IsLoopback():
		return classLoopback, "a loopback address"
	case a.IsLinkLocalUnicast():
		return classDenied, "a link-local address"
	case a.IsMulticast():
		return classDenied, "a multicast address"
	case a.IsPrivate(), siteLocal6.Contains(a):
		return classPrivate, "a private address"
	case cgnat.Contains(a):
		return classPrivate, "a carrier-grade NAT address"
	case reserved4.Contains(a):
		return classDenied, "a reserved address"
	case !a.IsGlobalUnicast():
		return classDenied, "not a global unicast address"
	}
	return classPublic, ""
}

// embeddedIPv4 extracts the IPv4 address that IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96)
// and 6to4 (2002:aabb:ccdd::/48) addresses route to, so ::127.0.0.1 is judged as 127.0.0.1.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case v4Compatible.Contains(a) && !a.IsUnspecified() && !a.IsLoopback():
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
