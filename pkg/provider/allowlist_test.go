package provider

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // String() of the result
		wantErr string
	}{
		{in: "", want: ""},
		{in: " , ", want: ""},
		{in: "10.1.2.3/16", want: "10.1.0.0/16"},
		{in: "10.1.2.3", want: "10.1.2.3/32"},
		{in: "fd00::1", want: "fd00::1/128"},
		{in: "10.0.0.5:8443", want: "10.0.0.5:8443"},
		{in: "[fd00::5]:8443", want: "[fd00::5]:8443"},
		{in: "Hooks.Internal:8443", want: "hooks.internal:8443"},
		{in: "10.0.0.0/8, 127.0.0.1:9000\thooks.internal:80", want: "10.0.0.0/8,127.0.0.1:9000,hooks.internal:80"},
		{in: "10.0.0.0/33", wantErr: "not a CIDR"},
		{in: "hooks.internal", wantErr: "not a CIDR, an IP address or host:port"},
		{in: "hooks.internal:0", wantErr: "port must be 1..65535"},
		{in: "hooks.internal:70000", wantErr: "port must be 1..65535"},
		{in: "hooks.internal:http", wantErr: "port must be 1..65535"},
		{in: "bad_host:80", wantErr: "is not a host name"},
		{in: "-bad.example:80", wantErr: "is not a host name"},
		{in: "fe80::1%eth0", wantErr: "zoned"},
		{in: "http://10.0.0.1", wantErr: "not a CIDR"},
		{in: strings.Repeat("10.0.0.1,", maxAllowEntries+1), wantErr: "at most"},
	}
	for _, tt := range tests {
		l, err := ParseAllowList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAllowList(%q) = %v, %v; want error containing %q", tt.in, l, err, tt.wantErr)
			}
			continue
		}
		if err != nil || l.String() != tt.want {
			t.Errorf("ParseAllowList(%q) = %q, %v; want %q", tt.in, l.String(), err, tt.want)
		}
		if l.Empty() != (tt.want == "") {
			t.Errorf("ParseAllowList(%q).Empty() = %v", tt.in, l.Empty())
		}
	}
}

// FuzzParseAllowList: whatever parses renders back to a list that parses to the same thing, and the
// guard built from it never panics on a check.
func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{"", "10.0.0.0/8", "127.0.0.1:9000", "[::1]:80", "hooks.internal:8443",
		"10.0.0.0/8, 169.254.169.254 fd00:ec2::254", "a-b.c:1", "::ffff:10.0.0.1/104", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseAllowList(s)
		if err != nil {
			return
		}
		again, err := ParseAllowList(l.String())
		if err != nil || again.String() != l.String() {
			t.Fatalf("%q → %q → %q, %v", s, l.String(), again.String(), err)
		}
		g := DefaultGuard().With(l)
		for _, a := range []string{"127.0.0.1:80", "10.0.0.1:8443", "[fd00:ec2::254]:80", "93.184.215.14:443"} {
			_ = g.CheckAddrPort(netip.MustParseAddrPort(a))
		}
		_ = g.CheckTarget("hooks.internal", "8443")
	})
}

// TestAllowListOpensOnlyWhatItNames runs the client with the AWS default (public addresses only) plus an
// allow-list, against a real provider on 127.0.0.1, checking the address actually dialled each time.
func TestAllowListOpensOnlyWhatItNames(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{"result":{}}`}}}
	u, _ := url.Parse(serve(t, p))
	port := u.Port()
	other := "1"
	if port == "1" {
		other = "2"
	}
	tests := []struct {
		name, allow, baseURI string
		wantBlocked          string // "" means the call must reach the provider
	}{
		{"nothing listed: loopback refused", "", "http://127.0.0.1:" + port, "127.0.0.1 is a loopback address"},
		{"nothing listed: a name resolving to loopback refused at dial", "", "http://localhost:" + port, "127.0.0.1 is a loopback address"},
		{"CIDR", "127.0.0.0/8", "http://127.0.0.1:" + port, ""},
		{"CIDR covers a name resolving into it", "127.0.0.0/8", "http://localhost:" + port, ""},
		{"address and port", "127.0.0.1:" + port, "http://127.0.0.1:" + port, ""},
		{"address and port: a name resolving to it is judged on the dialled address", "127.0.0.1:" + port, "http://localhost:" + port, ""},
		{"address and port: another port refused", "127.0.0.1:" + other, "http://127.0.0.1:" + port, "127.0.0.1 is a loopback address"},
		{"host name and port", "localhost:" + port, "http://localhost:" + port, ""},
		{"host name: the IP behind it is still refused", "localhost:" + port, "http://127.0.0.1:" + port, "127.0.0.1 is a loopback address"},
		{"host name: another port refused at dial", "localhost:" + other, "http://localhost:" + port, "127.0.0.1 is a loopback address"},
		{"metadata refused whatever else is listed", "127.0.0.0/8,10.0.0.0/8", "http://169.254.169.254/latest", "169.254.169.254 is a cloud metadata address"},
		{"IPv6 metadata refused", "127.0.0.0/8", "http://[fd00:ec2::254]/latest", "fd00:ec2::254 is a cloud metadata address"},
		{"private refused unless listed", "127.0.0.0/8", "http://10.0.0.1:" + port, "10.0.0.1 is a private address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseAllowList(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			c := NewClient(Options{Guard: DefaultGuard().With(l), Retry: RetryPolicy{MaxAttempts: 1}})
			_, err = c.Invoke(context.Background(), Target{BaseURI: tt.baseURI}, InvokeRequest{ActionKey: "k"})
			if tt.wantBlocked == "" {
				if err != nil {
					t.Fatalf("allowed call failed: %v", err)
				}
				return
			}
			e := asError(t, err)
			if e.Kind != Blocked || !strings.Contains(e.Description, tt.wantBlocked) {
				t.Fatalf("got %s %q, want BLOCKED with %q", e.Kind, e.Description, tt.wantBlocked)
			}
		})
	}
}

func TestGuardWithCopies(t *testing.T) {
	t.Parallel()
	base := &AddressGuard{AllowLoopback: true}
	l, _ := ParseAllowList("10.0.0.0/8,10.1.1.1:80,h.example:80")
	g := base.With(l)
	if len(base.AllowCIDRs)+len(base.AllowAddrPorts)+len(base.AllowHostPorts) != 0 {
		t.Errorf("With changed its receiver: %+v", base)
	}
	if !g.AllowLoopback || g.CheckAddrPort(netip.MustParseAddrPort("10.9.9.9:1")) != nil ||
		g.CheckAddrPort(netip.MustParseAddrPort("127.0.0.1:1")) != nil || g.CheckTarget("H.example", "80") != nil {
		t.Errorf("With lost an allowance: %+v", g)
	}
	if g.CheckAddrPort(netip.MustParseAddrPort("192.168.1.1:80")) == nil {
		t.Errorf("With allowed an unlisted private address")
	}
	var nilGuard *AddressGuard
	if ng := nilGuard.With(l); ng.CheckAddrPort(netip.MustParseAddrPort("10.1.1.1:80")) != nil {
		t.Errorf("nil.With did not apply the list")
	}
}
