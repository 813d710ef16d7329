package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The REDIS_URL schemes of the deployments that Open understands, besides
// go-redis's own redis://, rediss:// and unix:// for one server.
const (
	schemeSentinel    = "redis+sentinel"
	schemeSentinelTLS = "rediss+sentinel"
	schemeCluster     = "redis+cluster"
	schemeClusterTLS  = "rediss+cluster"
)

// clusterStateReload is how often a cluster client rereads the slot map
// while it is in use (one CLUSTER SLOTS per interval).
const clusterStateReload = time.Second

// errBadURL is the error of a REDIS_URL that names no deployment Open knows.
var errBadURL = errors.New("bad redis url")

// newClient returns a client, not yet connected, of the Redis deployment
// that rawURL names:
//
//	redis://[user:password@]host:port[/db][?option=value...]   one server (also rediss://, unix://)
//	redis+sentinel://[user:password@]host:port,host:port,.../master[/db][?option=value...]
//	redis+cluster://[user:password@]host:port,host:port,...[?option=value...]
//
// With Sentinel, the user and password are the data nodes'; the sentinels'
// own, if they have any, are the sentinel_username and sentinel_password
// options. The other options are go-redis's URL options (dial_timeout,
// pool_size, ...). The rediss+ forms use TLS. Every client ends each command
// at its context's deadline.
func newClient(rawURL string) (goredis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("%w: want redis://, redis+sentinel:// or redis+cluster://", errBadURL)
	}
	switch scheme {
	case schemeSentinel, schemeSentinelTLS:
		opts, err := parseSentinel(strings.TrimSuffix(scheme, "+sentinel"), rest)
		if err != nil {
			return nil, err
		}
		opts.ContextTimeoutEnabled = true
		return goredis.NewFailoverClient(opts), nil
	case schemeCluster, schemeClusterTLS:
		opts, err := parseCluster(strings.TrimSuffix(scheme, "+cluster"), rest)
		if err != nil {
			return nil, err
		}
		opts.ContextTimeoutEnabled = true
		return goredis.NewClusterClient(opts), nil
	default:
		opts, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errBadURL, err)
		}
		opts.ContextTimeoutEnabled = true
		return goredis.NewClient(opts), nil
	}
}

// hostList is a URL with several host:port pairs, split into its parts.
type hostList struct {
	userinfo string // "user:password@" or ""
	hosts    []string
	path     string
	query    url.Values
}

// splitHosts splits what follows "scheme://" in a URL whose host part is a
// comma-separated list.
func splitHosts(rest string) (hostList, error) {
	var h hostList
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, p, _ := strings.Cut(rest, "/")
	h.path = p
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		h.userinfo, authority = authority[:i+1], authority[i+1:]
	}
	for _, host := range strings.Split(authority, ",") {
		if host = strings.TrimSpace(host); host != "" {
			h.hosts = append(h.hosts, host)
		}
	}
	if len(h.hosts) == 0 {
		return h, fmt.Errorf("%w: no host:port", errBadURL)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return h, fmt.Errorf("%w: %w", errBadURL, err)
	}
	h.query = q
	return h, nil
}

// goredisURL rebuilds a one-host URL with the other hosts as addr options,
// the form go-redis's ParseFailoverURL and ParseClusterURL take.
func (h hostList) goredisURL(scheme, path string) string {
	q := url.Values{}
	for k, v := range h.query {
		q[k] = v
	}
	for _, host := range h.hosts[1:] {
		q.Add("addr", host)
	}
	return scheme + "://" + h.userinfo + h.hosts[0] + path + "?" + q.Encode()
}

// parseSentinel parses redis+sentinel://...; scheme is redis or rediss.
func parseSentinel(scheme, rest string) (*goredis.FailoverOptions, error) {
	h, err := splitHosts(rest)
	if err != nil {
		return nil, err
	}
	master, db, _ := strings.Cut(h.path, "/")
	if master == "" {
		return nil, fmt.Errorf("%w: redis+sentinel:// needs the master name as its path (host:port,.../mymaster)", errBadURL)
	}
	if db != "" {
		if _, err := strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("%w: database %q is not a number", errBadURL, db)
		}
		db = "/" + db
	}
	sentinelUser, sentinelPassword := h.query.Get("sentinel_username"), h.query.Get("sentinel_password")
	h.query.Del("sentinel_username")
	h.query.Del("sentinel_password")
	h.query.Set("master_name", master)
	// go-redis reads the URL's user and password as the sentinels'; here
	// they are the data nodes', as in redis://.
	userinfo := h.userinfo
	h.userinfo = ""
	opts, err := goredis.ParseFailoverURL(h.goredisURL(scheme, db))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadURL, err)
	}
	if userinfo != "" {
		u, err := url.Parse("redis://" + userinfo + "localhost")
		if err != nil {
			return nil, fmt.Errorf("%w: user and password: %w", errBadURL, err)
		}
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	opts.SentinelUsername, opts.SentinelPassword = sentinelUser, sentinelPassword
	return opts, nil
}

// parseCluster parses redis+cluster://...; scheme is redis or rediss.
func parseCluster(scheme, rest string) (*goredis.ClusterOptions, error) {
	h, err := splitHosts(rest)
	if err != nil {
		return nil, err
	}
	if h.path != "" {
		return nil, fmt.Errorf("%w: redis+cluster:// takes no path (a cluster has database 0 only)", errBadURL)
	}
	opts, err := goredis.ParseClusterURL(h.goredisURL(scheme, ""))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadURL, err)
	}
	// go-redis learns a new slot owner from MOVED replies, which a primary
	// that died cannot send: without a periodic reload, commands and the
	// revocation feed would keep dialling it for a minute after its
	// replica took over.
	opts.ClusterStateReloadInterval = clusterStateReload
	return opts, nil
}
