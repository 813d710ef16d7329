package config

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestEnvExampleListsEveryVariable keeps .env.example in step with Config:
// every variable is there with its default, and nothing else is.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	example := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		example[k] = v
	}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Tag.Get("env")
		v, ok := example[name]
		if !ok {
			t.Errorf(".env.example does not list %s", name)
			continue
		}
		if def := f.Tag.Get("envDefault"); v != def {
			t.Errorf(".env.example has %s=%s, but its default is %q", name, v, def)
		}
		delete(example, name)
	}
	for name := range example {
		t.Errorf(".env.example lists %s, which accountd does not read", name)
	}
}
