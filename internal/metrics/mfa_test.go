package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/metrics"
)

// Second-factor logins are counted by factor and outcome, every pair from
// zero.
func TestMFALogins(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, "v-test")
	m.MFALogin(account.FactorTOTP, account.MFAOK)
	m.MFALogin(account.FactorTOTP, account.MFAInvalidCode)
	m.MFALogin(account.FactorTOTP, account.MFAInvalidCode)
	m.MFALogin(account.FactorRecoveryCode, account.MFAOK)
	m.Login(account.LoginMFARequired)
	want := len(account.AllFactors) * len(account.MFAOutcomes)
	if n := testutil.CollectAndCount(reg, "accountd_mfa_logins_total"); n != want {
		t.Fatalf("mfa login series = %d, want %d (every factor and outcome from zero)", n, want)
	}
	for _, c := range []struct {
		factor  account.Factor
		outcome account.MFAOutcome
		want    float64
	}{
		{account.FactorTOTP, account.MFAOK, 1},
		{account.FactorTOTP, account.MFAInvalidCode, 2},
		{account.FactorRecoveryCode, account.MFAOK, 1},
		{account.FactorRecoveryCode, account.MFAInvalidToken, 0},
	} {
		got := mfaValue(t, reg, c.factor, c.outcome)
		if got != c.want {
			t.Errorf("mfa_logins_total{factor=%q,outcome=%q} = %v, want %v", c.factor, c.outcome, got, c.want)
		}
	}
	if got := gatheredValue(t, reg, "accountd_logins_total", "mfa_required"); got != 1 {
		t.Errorf("logins_total{outcome=mfa_required} = %v, want 1", got)
	}
}

// mfaValue is the count of the pair in what reg gathers.
func mfaValue(t *testing.T, reg prometheus.Gatherer, f account.Factor, o account.MFAOutcome) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range fams {
		if fam.GetName() != "accountd_mfa_logins_total" {
			continue
		}
		for _, mt := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["factor"] == string(f) && labels["outcome"] == string(o) {
				return mt.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series for factor %q outcome %q", f, o)
	return 0
}
