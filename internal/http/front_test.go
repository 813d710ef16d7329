package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// newRequestContext returns a requestContext on parent with the deadline
// timeout from now, as frontDoor makes it.
func newRequestContext(parent context.Context, timeout time.Duration) *requestContext {
	st := &requestState{}
	st.ctx.init(parent, time.Now().Add(timeout), st)
	return &st.ctx
}

// The request context behaves as context.WithDeadline with two values,
// whether or not anybody has waited on it yet.
func TestRequestContextDeadline(t *testing.T) {
	t.Parallel()
	t.Run("passes without Done", func(t *testing.T) {
		t.Parallel()
		c := newRequestContext(context.Background(), 20*time.Millisecond)
		if err := c.Err(); err != nil {
			t.Fatalf("Err before the deadline = %v", err)
		}
		if d, ok := c.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
			t.Fatalf("Deadline = %v, %v", d, ok)
		}
		time.Sleep(30 * time.Millisecond)
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err after the deadline = %v, want DeadlineExceeded", err)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed after the deadline")
		}
	})
	t.Run("closes Done when it passes", func(t *testing.T) {
		t.Parallel()
		c := newRequestContext(context.Background(), 20*time.Millisecond)
		done := c.Done()
		child, cancel := context.WithCancel(c)
		defer cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed at the deadline")
		}
		<-child.Done()
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err = %v, child's = %v, want DeadlineExceeded", c.Err(), child.Err())
		}
	})
	t.Run("keeps an earlier deadline of the parent", func(t *testing.T) {
		t.Parallel()
		parent, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		c := newRequestContext(parent, time.Hour)
		if d, _ := c.Deadline(); time.Until(d) > time.Millisecond {
			t.Fatalf("Deadline = %v, want the parent's", d)
		}
	})
}

// The parent's cancellation (the client went away) shows as Canceled, with
// or without Done; so does the end of the request.
func TestRequestContextCancel(t *testing.T) {
	t.Parallel()
	for _, early := range []bool{false, true} {
		parent, cancel := context.WithCancel(context.Background())
		c := newRequestContext(parent, time.Hour)
		if early {
			_ = c.Done()
		}
		cancel()
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Done made early=%v: Err after the parent's cancel = %v", early, err)
		}
		<-c.Done()
	}
	for _, early := range []bool{false, true} {
		c := newRequestContext(context.Background(), time.Hour)
		var child context.Context
		if early {
			var cancel context.CancelFunc
			child, cancel = context.WithCancel(c)
			defer cancel()
		}
		c.end()
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Done made early=%v: Err after the request ended = %v", early, err)
		}
		<-c.Done()
		if child != nil {
			<-child.Done()
		}
	}
}

// Values: the request's info and chi's routing context come from the
// request's state; every other key from the parent, before and after Done.
func TestRequestContextValues(t *testing.T) {
	t.Parallel()
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "parent's")
	c := newRequestContext(parent, time.Hour)
	c.state.info.id = "rid"
	for _, when := range []string{"before Done", "after Done"} {
		if got := requestID(c); got != "rid" {
			t.Errorf("%s: request id %q", when, got)
		}
		if chi.RouteContext(c) != &c.state.route {
			t.Errorf("%s: chi's routing context is not the request's", when)
		}
		if got := c.Value(key{}); got != "parent's" {
			t.Errorf("%s: parent's value = %v", when, got)
		}
		_ = c.Done()
	}
}

// A request that waited on its context's Done (a database or Redis call)
// may have left contexts made from it with whoever made them: its state is
// never recycled for another request, so such a context keeps answering
// for its own request.
func TestFrontDoorKeepsTheStateOfRequestsThatWaited(t *testing.T) {
	t.Parallel()
	var kept context.Context
	mux := chi.NewRouter()
	mux.Get("/wait", func(_ http.ResponseWriter, r *http.Request) {
		_ = r.Context().Done()
		kept = r.Context()
	})
	mux.Get("/quick", func(http.ResponseWriter, *http.Request) {})
	f := &frontDoor{Mux: mux, timeout: time.Second, log: slog.New(slog.DiscardHandler), labels: routeLabels{}}

	req := httptest.NewRequest(http.MethodGet, "/wait", nil)
	req.Header.Set("X-Request-ID", "waited")
	f.ServeHTTP(httptest.NewRecorder(), req)
	for i := range 100 {
		req := httptest.NewRequest(http.MethodGet, "/quick", nil)
		req.Header.Set("X-Request-ID", fmt.Sprintf("quick-%d", i))
		f.ServeHTTP(httptest.NewRecorder(), req)
	}
	if got := requestID(kept); got != "waited" {
		t.Fatalf("the context of a request that waited now belongs to request %q", got)
	}
	if !errors.Is(kept.Err(), context.Canceled) {
		t.Fatalf("Err after the request = %v, want Canceled", kept.Err())
	}
}

// Generated request ids are version 4 UUIDs, sane by our own rule, and do
// not repeat.
func TestNewRequestID(t *testing.T) {
	t.Parallel()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 10_000 {
		id := newRequestID()
		if !uuid.MatchString(id) || !saneRequestID(id) {
			t.Fatalf("request id %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
}
