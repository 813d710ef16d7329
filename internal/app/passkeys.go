package app

import (
	"log/slog"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/passkeys"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/redis"
)

// PasskeyConfig is the WebAuthn relying party of an instance.
type PasskeyConfig struct {
	// RPID is WEBAUTHN_RP_ID; empty turns passkeys off.
	RPID    string
	RPName  string
	Origins []string
}

// NewPasskeys builds the passkey use cases of svc on d's PostgreSQL (the
// passkeys) and Redis (the ceremonies, shared by every instance). It
// returns nil when c.RPID is empty: passkeys are off.
func NewPasskeys(d Deps, svc *account.Service, c PasskeyConfig) (*account.Passkeys, error) {
	if c.RPID == "" {
		d.Logger.Info("passkeys are off: set WEBAUTHN_RP_ID (or PUBLIC_URL) to turn them on")
		return nil, nil
	}
	rp, err := passkeys.New(passkeys.Config{
		RPID: c.RPID, RPName: c.RPName, Origins: c.Origins, Timeout: account.PasskeyCeremonyTTL,
	})
	if err != nil {
		return nil, err
	}
	d.Logger.Info("passkeys are on", slog.String("rp_id", c.RPID), slog.Any("origins", c.Origins))
	return account.NewPasskeys(svc, postgres.NewPasskeyStore(d.Pool), redis.NewCeremonies(d.Redis, d.KeyPrefix), rp), nil
}
