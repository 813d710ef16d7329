package redis_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/redis"
)

func TestSentinelURL(t *testing.T) {
	o, err := redis.ParseSentinelURL("redis",
		"app:s3cret@10.0.0.1:26379,10.0.0.2:26379, 10.0.0.3:26379/mymaster/2?sentinel_password=sp&dial_timeout=3s")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"}
	if !slices.Equal(o.SentinelAddrs, want) || o.MasterName != "mymaster" || o.DB != 2 {
		t.Fatalf("sentinels %v, master %q, db %d; want %v, mymaster, 2", o.SentinelAddrs, o.MasterName, o.DB, want)
	}
	if o.Username != "app" || o.Password != "s3cret" || o.SentinelUsername != "" || o.SentinelPassword != "sp" {
		t.Fatalf("credentials: data %q/%q, sentinel %q/%q; want app/s3cret and /sp",
			o.Username, o.Password, o.SentinelUsername, o.SentinelPassword)
	}
	if o.DialTimeout != 3*time.Second || o.TLSConfig != nil {
		t.Fatalf("dial_timeout %v, TLS %v; want 3s, none", o.DialTimeout, o.TLSConfig)
	}
	tlsOpts, err := redis.ParseSentinelURL("rediss", "h:26379/m")
	if err != nil || tlsOpts.TLSConfig == nil {
		t.Fatalf("rediss+sentinel: TLS %v, err %v; want TLS", tlsOpts, err)
	}
}

func TestClusterURL(t *testing.T) {
	o, err := redis.ParseClusterURL("redis", ":pw@a:7000,b:7001,c:7002?read_timeout=2s")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if want := []string{"a:7000", "b:7001", "c:7002"}; !slices.Equal(o.Addrs, want) {
		t.Fatalf("addrs %v, want %v", o.Addrs, want)
	}
	if o.Password != "pw" || o.ReadTimeout != 2*time.Second {
		t.Fatalf("password %q, read_timeout %v; want pw, 2s", o.Password, o.ReadTimeout)
	}
}

func TestClientKinds(t *testing.T) {
	for url, want := range map[string]string{
		"redis://127.0.0.1:6379/0":                      "*redis.Client",
		"redis+sentinel://127.0.0.1:26379/m":            "*redis.Client", // go-redis's failover client
		"redis+cluster://127.0.0.1:7000,127.0.0.1:7001": "*redis.ClusterClient",
	} {
		c, err := redis.NewClient(url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		got := typeName(c)
		_ = c.Close()
		if got != want {
			t.Errorf("%s: client %s, want %s", url, got, want)
		}
	}
}

func typeName(c goredis.UniversalClient) string {
	switch c.(type) {
	case *goredis.ClusterClient:
		return "*redis.ClusterClient"
	case *goredis.Client:
		return "*redis.Client"
	default:
		return "other"
	}
}

func TestBadURLs(t *testing.T) {
	for _, url := range []string{
		"",
		"localhost:6379",
		"http://localhost:6379",
		"redis+sentinel://h:26379",            // no master name
		"redis+sentinel://h:26379/m/x",        // db not a number
		"redis+sentinel:///m",                 // no sentinel
		"redis+cluster://a:7000/0",            // a cluster has no databases
		"redis+cluster://a:7000?nonsense=1",   // unknown option
		"redis+sentinel://h:26379/m?bogus=1",  // unknown option
		"redis://:secret@h:6379/0?bogus=true", // unknown option
	} {
		c, err := redis.NewClient(url)
		if err == nil {
			_ = c.Close()
			t.Errorf("%q: got a client, want an error", url)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: error %q shows the password", url, err)
		}
	}
}
