package account

import (
	"testing"
	"time"
)

func TestLimitConstructors(t *testing.T) {
	cases := []struct {
		name string
		got  Limit
		want Limit
		off  bool
	}{
		{"60 per minute", PerWindow(60, time.Minute), Limit{Burst: 60, Interval: time.Second}, false},
		{"3 per 1.5s", PerWindow(3, 1500*time.Millisecond), Limit{Burst: 3, Interval: 500 * time.Millisecond}, false},
		{"per window, 0 is off", PerWindow(0, time.Minute), Limit{}, true},
		{"5 failures per 15m", LockoutAfter(5, 15*time.Minute), Limit{Burst: 5, Interval: 15 * time.Minute}, false},
		{"lockout, 0 is off", LockoutAfter(0, 15*time.Minute), Limit{}, true},
		{"lockout, no window is off", LockoutAfter(5, 0), Limit{}, true},
	}
	for _, c := range cases {
		if c.got != c.want || c.got.Off() != c.off {
			t.Errorf("%s: got %+v (off %v), want %+v (off %v)", c.name, c.got, c.got.Off(), c.want, c.off)
		}
	}
}

func TestIPKey(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"":                     "unknown",
		"not an address":       "unknown",
		"fe80::1%eth0":         "fe80::/64",
	}
	for ip, want := range cases {
		if got := ipKey(ip); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestClientKey(t *testing.T) {
	cases := []struct {
		c    Client
		want string
	}{
		{Client{IPAddress: "192.0.2.7"}, "192.0.2.7"},
		{Client{IPAddress: "192.0.2.7", Alias: "ignored"}, "192.0.2.7"},
		{Client{Alias: "0123abcd"}, "alias:0123abcd"},
		{Client{}, "unknown"},
	}
	for _, c := range cases {
		if got := clientKey(c.c); got != c.want {
			t.Errorf("clientKey(%+v) = %q, want %q", c.c, got, c.want)
		}
	}
}
