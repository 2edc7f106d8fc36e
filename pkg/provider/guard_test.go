package provider

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardControl(t *testing.T) {
	t.Parallel()
	guards := map[string]*AddressGuard{
		"default":  DefaultGuard(),
		"nil":      nil,
		"loopback": {AllowLoopback: true},
		"private":  {AllowPrivate: true},
		"cidrs": {AllowCIDRs: []netip.Prefix{
			netip.MustParsePrefix("10.1.0.0/16"),
			netip.MustParsePrefix("169.254.169.254/32"),
			netip.MustParsePrefix("::1/128"),
		}},
	}
	tests := []struct {
		address string
		allowed []string // guards that allow it
		reason  string   // substring of the default guard's reason
	}{
		{"93.184.215.14:443", []string{"default", "nil", "loopback", "private", "cidrs"}, ""},
		{"[2606:4700::6810:84e5]:443", []string{"default", "nil", "loopback", "private", "cidrs"}, ""},
		{"127.0.0.1:80", []string{"loopback"}, "loopback"},
		{"127.9.9.9:80", []string{"loopback"}, "loopback"},
		{"[::1]:80", []string{"loopback", "cidrs"}, "loopback"},
		{"[::ffff:127.0.0.1]:80", []string{"loopback"}, "loopback"},
		{"[::127.0.0.1]:80", []string{"loopback"}, "loopback address (embeds 127.0.0.1)"},
		{"[64:ff9b::7f00:1]:80", []string{"loopback"}, "loopback address (embeds 127.0.0.1)"},
		{"[2002:7f00:1::1]:80", []string{"loopback"}, "loopback address (embeds 127.0.0.1)"},
		{"10.0.0.1:80", []string{"private"}, "private"},
		{"10.1.2.3:80", []string{"private", "cidrs"}, "private"},
		{"[::ffff:10.1.2.3]:80", []string{"private", "cidrs"}, "private"},
		{"172.16.0.1:80", []string{"private"}, "private"},
		{"172.31.255.255:80", []string{"private"}, "private"},
		{"172.32.0.1:80", []string{"default", "nil", "loopback", "private", "cidrs"}, ""},
		{"192.168.1.1:80", []string{"private"}, "private"},
		{"[::ffff:192.168.1.1]:80", []string{"private"}, "private"},
		{"100.64.0.1:80", []string{"private"}, "carrier-grade NAT"},
		{"100.127.255.255:80", []string{"private"}, "carrier-grade NAT"},
		{"[fc00::1]:80", []string{"private"}, "private"},
		{"[fd12:3456::1]:80", []string{"private"}, "private"},
		{"[fec0::1]:80", []string{"private"}, "private"},
		{"169.254.169.254:80", []string{"cidrs"}, "cloud metadata"},
		{"[::ffff:169.254.169.254]:80", []string{"cidrs"}, "cloud metadata"},
		{"169.254.1.1:80", nil, "link-local"},
		{"[fe80::1%eth0]:80", nil, "link-local"},
		{"[fd00:ec2::254]:80", nil, "cloud metadata"},
		{"100.100.100.200:80", nil, "cloud metadata"},
		{"168.63.129.16:80", nil, "cloud metadata"},
		{"0.0.0.0:80", nil, "unspecified"},
		{"0.1.2.3:80", nil, "unspecified"},
		{"[::]:80", nil, "unspecified"},
		{"224.0.0.1:80", nil, "multicast"},
		{"[ff02::1]:80", nil, "multicast"},
		{"255.255.255.255:80", nil, "reserved"},
		{"240.0.0.1:80", nil, "reserved"},
		{"example.com:80", nil, "not an IP address and port"},
		{"127.0.0.1", nil, "not an IP address and port"},
	}
	for _, tt := range tests {
		for name, g := range guards {
			want := false
			for _, a := range tt.allowed {
				want = want || a == name
			}
			err := g.Control("tcp", tt.address, nil)
			if (err == nil) != want {
				t.Errorf("%s guard, %s: err = %v, want allowed=%v", name, tt.address, err, want)
			}
			if err != nil {
				var be *BlockedError
				if !errors.As(err, &be) {
					t.Errorf("%s guard, %s: %T is not a *BlockedError", name, tt.address, err)
				}
			}
			if name == "default" && err != nil && !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("default guard, %s: %q does not mention %q", tt.address, err, tt.reason)
			}
		}
	}
}

func TestGuardRefusesOtherNetworks(t *testing.T) {
	t.Parallel()
	g := &AddressGuard{AllowLoopback: true, AllowPrivate: true}
	for _, network := range []string{"udp", "unix", "ip4:icmp"} {
		if err := g.Control(network, "127.0.0.1:53", nil); err == nil {
			t.Errorf("%s allowed", network)
		}
	}
	for _, network := range []string{"tcp", "tcp4", "tcp6"} {
		if err := g.Control(network, "127.0.0.1:80", nil); err != nil {
			t.Errorf("%s: %v", network, err)
		}
	}
}

func TestGuardCheckInvalid(t *testing.T) {
	t.Parallel()
	if err := DefaultGuard().Check(netip.Addr{}); err == nil {
		t.Error("zero Addr allowed")
	}
}
