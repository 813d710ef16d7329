package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/accountd/accountd/internal/config"
)

// manifests are the Kubernetes objects of deploy/kubernetes, decoded
// strictly (an unknown or misspelt field fails) into the API's own types.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
	pdb        *policyv1.PodDisruptionBudget
	hpa        *autoscalingv2.HorizontalPodAutoscaler
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	var m manifests
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(raw, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			where := fmt.Sprintf("%s document %d", f, i+1)
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			var obj any
			switch head.APIVersion + " " + head.Kind {
			case "apps/v1 Deployment":
				m.deployment = &appsv1.Deployment{}
				obj = m.deployment
			case "v1 Service":
				m.service = &corev1.Service{}
				obj = m.service
			case "v1 ConfigMap":
				m.configMap = &corev1.ConfigMap{}
				obj = m.configMap
			case "v1 Secret":
				m.secret = &corev1.Secret{}
				obj = m.secret
			case "policy/v1 PodDisruptionBudget":
				m.pdb = &policyv1.PodDisruptionBudget{}
				obj = m.pdb
			case "autoscaling/v2 HorizontalPodAutoscaler":
				m.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
				obj = m.hpa
			default:
				t.Fatalf("%s: unexpected %s %s", where, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	}
	for name, obj := range map[string]any{"Deployment": m.deployment, "Service": m.service, "ConfigMap": m.configMap,
		"Secret": m.secret, "PodDisruptionBudget": m.pdb, "HorizontalPodAutoscaler": m.hpa} {
		if reflect.ValueOf(obj).IsNil() {
			t.Fatalf("deploy/kubernetes has no %s", name)
		}
	}
	return m
}

// TestKubernetesManifests checks the manifests against each other and
// against accountd's own configuration rules.
func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	d := m.deployment
	labels := d.Spec.Template.Labels
	if !matches(d.Spec.Selector.MatchLabels, labels) {
		t.Errorf("Deployment selector %v does not select its pods %v", d.Spec.Selector.MatchLabels, labels)
	}
	if !matches(m.service.Spec.Selector, labels) {
		t.Errorf("Service selector %v does not select the pods %v", m.service.Spec.Selector, labels)
	}
	if !matches(m.pdb.Spec.Selector.MatchLabels, labels) {
		t.Errorf("PodDisruptionBudget selector %v does not select the pods %v", m.pdb.Spec.Selector.MatchLabels, labels)
	}
	if ref := m.hpa.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HorizontalPodAutoscaler scales %s %s, want Deployment %s", ref.Kind, ref.Name, d.Name)
	}
	replicas, minAvailable := *d.Spec.Replicas, m.pdb.Spec.MinAvailable.IntValue()
	if minReplicas := *m.hpa.Spec.MinReplicas; minReplicas < replicas || minAvailable >= int(minReplicas) {
		t.Errorf("replicas %d, HPA minimum %d, PDB minAvailable %d: want minAvailable below both, so that a pod may be evicted",
			replicas, minReplicas, minAvailable)
	}

	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("the pod has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	c := d.Spec.Template.Spec.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8000 {
		t.Errorf("container ports %v, want http 8000 (HTTP_ADDR's default)", c.Ports)
	}
	if tp := m.service.Spec.Ports[0].TargetPort.String(); tp != "http" {
		t.Errorf("Service targets port %q, want http", tp)
	}
	probes := map[string]struct {
		probe *corev1.Probe
		path  string
	}{"readiness": {c.ReadinessProbe, "/health"}, "liveness": {c.LivenessProbe, "/livez"}, "startup": {c.StartupProbe, "/livez"}}
	for name, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", name, p.probe, p.path)
		}
	}

	// The environment comes from the ConfigMap and the Secret; accountd
	// accepts it once SECRET_KEY is replaced, and refuses the placeholder.
	refs := map[string]bool{}
	for _, e := range c.EnvFrom {
		switch {
		case e.ConfigMapRef != nil:
			refs["configmap "+e.ConfigMapRef.Name] = true
		case e.SecretRef != nil:
			refs["secret "+e.SecretRef.Name] = true
		}
	}
	if !refs["configmap "+m.configMap.Name] || !refs["secret "+m.secret.Name] || len(c.Env) > 0 {
		t.Errorf("container environment from %v and %d literals, want only the ConfigMap and the Secret", refs, len(c.Env))
	}
	for _, secret := range []string{"SECRET_KEY", "DATABASE_URL", "DATABASE_DIRECT_URL"} {
		if _, ok := m.secret.StringData[secret]; !ok {
			t.Errorf("the Secret has no %s", secret)
		}
		if _, ok := m.configMap.Data[secret]; ok {
			t.Errorf("the ConfigMap holds %s, which belongs in the Secret", secret)
		}
	}
	env := environ(m.configMap.Data, m.secret.StringData)
	if _, err := config.Load(env); err == nil || !strings.HasPrefix(err.Error(), "SECRET_KEY") {
		t.Errorf("config.Load with the placeholder SECRET_KEY: %v, want a SECRET_KEY error", err)
	}
	cfg, err := config.Load(append(env, "SECRET_KEY="+strings.Repeat("k", 48)))
	if err != nil {
		t.Fatalf("config.Load of the ConfigMap and Secret: %v", err)
	}
	if cfg.DatabaseQueryMode != "exec" || !strings.HasPrefix(string(cfg.RedisURL), "redis+sentinel://") {
		t.Errorf("DATABASE_QUERY_MODE %q, REDIS_URL %s: want exec (PgBouncer) and a redis+sentinel:// URL",
			cfg.DatabaseQueryMode, m.configMap.Data["REDIS_URL"])
	}

	// Shutdown: the preStop wait covers endpoint removal, accountd's own
	// SHUTDOWN_DELAY the rest of the balancers, then the drain; the grace
	// period covers all three.
	pre := c.Lifecycle
	if pre == nil || pre.PreStop == nil || pre.PreStop.Sleep == nil {
		t.Fatal("the container has no preStop sleep")
	}
	wait := time.Duration(pre.PreStop.Sleep.Seconds) * time.Second
	if wait != cfg.ShutdownDelay {
		t.Errorf("preStop sleeps %v, want SHUTDOWN_DELAY (%v)", wait, cfg.ShutdownDelay)
	}
	need := wait + cfg.ShutdownDelay + cfg.ShutdownTimeout
	if grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second; grace < need {
		t.Errorf("terminationGracePeriodSeconds %v, want at least preStop + SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT = %v", grace, need)
	}
	if sc := d.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
}

// matches reports whether selector selects a pod with labels.
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// environ turns maps of variables into os.Environ's form, later maps
// winning.
func environ(maps ...map[string]string) []string {
	var out []string
	for _, m := range maps {
		for k, v := range m {
			out = append(out, k+"="+v)
		}
	}
	return out
}
