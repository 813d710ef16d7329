package http_test

import (
	"net/http"
	"reflect"
	"testing"
)

// Access tokens say how their session was authenticated (RFC 8176 amr), and
// a refresh keeps it.
func TestAccessTokensCarryAMR(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	l := api.login(t, api.newAccount(t, "amr"), testPassword)
	if got := claimsOf(t, l.access)["amr"]; !reflect.DeepEqual(got, []any{"pwd"}) {
		t.Fatalf("amr after a password login = %v, want [pwd]", got)
	}
	refreshed := tokensOf(t, api.wantRefresh(t, "refresh", l.refresh, http.StatusOK, ""))
	if got := claimsOf(t, refreshed.access)["amr"]; !reflect.DeepEqual(got, []any{"pwd"}) {
		t.Fatalf("amr after a refresh = %v, want [pwd]", got)
	}
}
