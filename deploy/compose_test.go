package deploy_test

import (
	"bufio"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/accountd/accountd/internal/config"
)

// composeFile is the part of the Compose specification that compose.yaml
// uses; decoding with KnownFields fails on anything else (a misspelt key).
type composeFile struct {
	Name     string                    `yaml:"name"`
	Anchors  any                       `yaml:"x-accountd"`
	Services map[string]composeService `yaml:"services"`
	Networks map[string]composeNetwork `yaml:"networks"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	Build           string                       `yaml:"build"`
	Command         []string                     `yaml:"command"`
	Environment     map[string]string            `yaml:"environment"`
	Volumes         []string                     `yaml:"volumes"`
	Ports           []string                     `yaml:"ports"`
	DependsOn       map[string]map[string]string `yaml:"depends_on"`
	Healthcheck     map[string]any               `yaml:"healthcheck"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
	Restart         string                       `yaml:"restart"`
	Networks        yaml.Node                    `yaml:"networks"`
	networkConfig   map[string]map[string]string `yaml:"-"`
}

type composeNetwork struct {
	IPAM struct {
		Config []struct {
			Subnet string `yaml:"subnet"`
		} `yaml:"config"`
	} `yaml:"ipam"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	f, err := os.Open("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var c composeFile
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, s := range c.Services {
		if s.Networks.Kind == yaml.MappingNode {
			if err := s.Networks.Decode(&s.networkConfig); err != nil {
				t.Fatalf("compose.yaml: service %s networks: %v", name, err)
			}
			c.Services[name] = s
		}
	}
	return c
}

// interpolate resolves Compose's ${VAR:-default} and ${VAR:?message} as an
// operator with only SECRET_KEY set would.
func interpolate(s, secretKey string) string {
	return regexp.MustCompile(`\$\{([A-Z_]+)(:[-?])([^}]*)\}`).ReplaceAllStringFunc(s, func(m string) string {
		parts := regexp.MustCompile(`\$\{([A-Z_]+)(:[-?])([^}]*)\}`).FindStringSubmatch(m)
		if parts[1] == "SECRET_KEY" {
			return secretKey
		}
		if parts[2] == ":-" {
			return parts[3]
		}
		return ""
	})
}

// TestComposeStack checks the scaled stack of deploy/compose.yaml: every
// service can start (an image or a build context, dependencies that
// exist, files that exist), three accountd instances whose environment
// accountd accepts and that point at PgBouncer, Sentinel and HAProxy as
// configured there, and a balancer configuration HAProxy accepts.
func TestComposeStack(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if (s.Image == "") == (s.Build == "") {
			t.Errorf("service %s: want an image or a build context", name)
		}
		if s.Build != "" {
			if _, err := os.Stat(filepath.Join(s.Build, "Dockerfile")); err != nil {
				t.Errorf("service %s: build context %s has no Dockerfile", name, s.Build)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
			}
		}
		for _, v := range s.Volumes {
			if src, _, _ := strings.Cut(v, ":"); strings.HasPrefix(src, "./") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("service %s mounts %s, which is missing", name, src)
				}
			}
		}
	}

	var instances []string
	for name, s := range c.Services {
		if s.Build == ".." {
			instances = append(instances, name)
		}
	}
	if len(instances) != 3 {
		t.Fatalf("compose.yaml runs %d accountd instances (%v), want 3", len(instances), instances)
	}
	haproxy, ok := c.Services["haproxy"]
	if !ok {
		t.Fatal("compose.yaml has no haproxy service")
	}
	balancerIP := haproxy.networkConfig["accountd"]["ipv4_address"]

	var cfg config.Config
	for _, name := range instances {
		var env []string
		for k, v := range c.Services[name].Environment {
			env = append(env, k+"="+interpolate(v, strings.Repeat("k", 48)))
		}
		var err error
		if cfg, err = config.Load(env); err != nil {
			t.Fatalf("service %s: accountd refuses its environment: %v", name, err)
		}
		if got := c.Services[name].Environment["TRUSTED_PROXIES"]; got != balancerIP {
			t.Errorf("service %s trusts %q as a proxy, want HAProxy's address %q", name, got, balancerIP)
		}
	}
	checkDatabaseURLs(t, c, cfg)
	checkSentinels(t, c, cfg)
	checkHAProxy(t, instances, cfg)
	if grace, err := time.ParseDuration(c.Services[instances[0]].StopGracePeriod); err != nil ||
		grace < cfg.ShutdownDelay+cfg.ShutdownTimeout {
		t.Errorf("stop_grace_period %q, want at least SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT", c.Services[instances[0]].StopGracePeriod)
	}
}

// checkDatabaseURLs: requests through PgBouncer in transaction mode with
// the exec query mode, migrations straight to PostgreSQL.
func checkDatabaseURLs(t *testing.T, c composeFile, cfg config.Config) {
	t.Helper()
	pooled, err := url.Parse(string(cfg.DatabaseURL))
	if err != nil || pooled.Hostname() != "pgbouncer" {
		t.Errorf("DATABASE_URL does not go through the pgbouncer service")
	}
	if direct, err := url.Parse(string(cfg.DatabaseDirectURL)); err != nil || direct.Hostname() != "postgres" {
		t.Errorf("DATABASE_DIRECT_URL does not go to the postgres service")
	}
	if cfg.DatabaseQueryMode != "exec" {
		t.Errorf("DATABASE_QUERY_MODE %q, want exec behind PgBouncer", cfg.DatabaseQueryMode)
	}
	ini := settings(t, "pgbouncer/pgbouncer.ini", "=")
	if ini["pool_mode"] != "transaction" || ini["listen_port"] != pooled.Port() {
		t.Errorf("pgbouncer.ini: pool_mode %q, listen_port %q; want transaction, %s", ini["pool_mode"], ini["listen_port"], pooled.Port())
	}
	if db := strings.TrimPrefix(pooled.Path, "/"); !strings.HasPrefix(ini[db], "host=postgres ") {
		t.Errorf("pgbouncer.ini does not route database %s to the postgres service", db)
	}
	users := settings(t, "pgbouncer/userlist.txt", " ")
	if _, ok := users[strconv.Quote(pooled.User.Username())]; !ok {
		t.Errorf("pgbouncer's userlist.txt lacks the user of DATABASE_URL")
	}
}

// checkSentinels: REDIS_URL names the three sentinels and the master they
// monitor, with a quorum of two.
func checkSentinels(t *testing.T, c composeFile, cfg config.Config) {
	t.Helper()
	rest := strings.TrimPrefix(string(cfg.RedisURL), "redis+sentinel://")
	hosts, master, _ := strings.Cut(rest, "/")
	for _, h := range strings.Split(hosts, ",") {
		if _, ok := c.Services[strings.Split(h, ":")[0]]; !ok {
			t.Errorf("REDIS_URL names sentinel %s, which is not a service", h)
		}
	}
	if n := len(strings.Split(hosts, ",")); n != 3 {
		t.Errorf("REDIS_URL names %d sentinels, want 3", n)
	}
	conf := settings(t, "redis/sentinel.conf", " ")
	monitor := strings.Fields(conf["sentinel"+" monitor"])
	if len(monitor) != 4 || monitor[0] != master || monitor[3] != "2" {
		t.Errorf("sentinel.conf monitors %v, want %s with a quorum of 2", monitor, master)
	} else if _, ok := c.Services[monitor[1]]; !ok {
		t.Errorf("sentinel.conf monitors %s, which is not a service", monitor[1])
	}
}

// checkHAProxy: HAProxy accepts its configuration, balances over the three
// instances with a /health check, and takes an instance out well within
// SHUTDOWN_DELAY.
func checkHAProxy(t *testing.T, instances []string, cfg config.Config) {
	t.Helper()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is not installed (run .ci/services): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	//nolint:gosec // G204: haproxy checking the repository's configuration
	if out, err := exec.CommandContext(ctx, haproxy, "-c", "-f", "haproxy/haproxy.cfg").CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	raw, err := os.ReadFile("haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	if !strings.Contains(text, "option httpchk GET /health") {
		t.Error("haproxy.cfg does not check /health")
	}
	for _, name := range instances {
		if !strings.Contains(text, "server "+name+" "+name+":8000") {
			t.Errorf("haproxy.cfg does not balance over %s", name)
		}
	}
	m := regexp.MustCompile(`inter (\d+)s fall (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("haproxy.cfg sets no check interval and fall count")
	}
	inter, _ := strconv.Atoi(m[1])
	fall, _ := strconv.Atoi(m[2])
	if out := time.Duration(inter*(fall+1)) * time.Second; out > cfg.ShutdownDelay {
		t.Errorf("HAProxy may take %v to take a draining instance out, longer than SHUTDOWN_DELAY %v", out, cfg.ShutdownDelay)
	}
}

// settings reads "key<sep>value" lines, skipping comments and sections;
// for keys that repeat with different second words (sentinel monitor ...),
// the first two words form the key.
func settings(t *testing.T, path, sep string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(line, sep)
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "sentinel" {
			w, rest, _ := strings.Cut(v, " ")
			k, v = k+" "+w, rest
		}
		out[k] = v
	}
	return out
}
