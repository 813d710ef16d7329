package security

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretKeyBytes is the shortest signing key accepted for HS256, the
// algorithm with the shortest hash; see MinKeyBytes for the others.
const MinSecretKeyBytes = 32

// clockLeeway is how far ahead of this instance's clock the clock of the
// instance that issued a token may run: a token whose iat or nbf lies up to
// clockLeeway in the future is accepted. Expiry gets no leeway, so a token
// never lives longer than its exp says.
const clockLeeway = 5 * time.Second

// Errors returned by JWT.Verify.
var (
	ErrTokenInvalid = errors.New("invalid token")
	ErrTokenExpired = errors.New("token expired")
)

// accessTokenType is the typ header of access tokens (RFC 9068).
const accessTokenType = "at+jwt"

// Claims are what an access token says.
type Claims struct {
	Subject   string // account uuid
	SessionID string
	ID        string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
	KeyID     string // kid of the key that signed it
	// AMR lists how the session's holder authenticated (RFC 8176: "pwd",
	// "otp", "hwk"); nil when the token carries none.
	AMR []string
}

type jwtClaims struct {
	SessionID string   `json:"sid"`
	AMR       []string `json:"amr,omitempty"`
	jwt.RegisteredClaims
}

// JWT issues and verifies access tokens with the keys of a SigningKeys:
// one HMAC key, or the published asymmetric keys of internal/keys.
type JWT struct {
	keys     SigningKeys
	observer TokenObserver
	issuer   string
	audience string
	ttl      time.Duration
	parser   *jwt.Parser
	now      func() time.Time
	verified verifiedCache
}

// JWTConfig configures NewJWT.
type JWTConfig struct {
	// Keys sign and verify; when nil, Algorithm (HS256, HS384 or HS512)
	// and Key make one HMAC key.
	Keys      SigningKeys
	Algorithm string
	Key       []byte
	Issuer    string
	Audience  string // optional
	TTL       time.Duration
	Now       func() time.Time // defaults to time.Now
	// Observer, when set, is told why tokens are refused.
	Observer TokenObserver
}

// hmacMethod returns the signing method of the HMAC algorithm alg.
func hmacMethod(alg string) (*jwt.SigningMethodHMAC, bool) {
	switch alg {
	case "HS256":
		return jwt.SigningMethodHS256, true
	case "HS384":
		return jwt.SigningMethodHS384, true
	case "HS512":
		return jwt.SigningMethodHS512, true
	}
	return nil, false
}

// MinKeyBytes returns the shortest key accepted for the HMAC algorithm alg:
// as many bytes as its hash (RFC 7518, section 3.2), so 32, 48 or 64. For an
// algorithm it does not know, it returns MinSecretKeyBytes.
func MinKeyBytes(alg string) int {
	if m, ok := hmacMethod(alg); ok {
		return m.Hash.Size()
	}
	return MinSecretKeyBytes
}

// NewJWT returns a JWT for c. Without c.Keys, it fails for an unsupported
// algorithm or a key shorter than MinKeyBytes of the algorithm.
func NewJWT(c JWTConfig) (*JWT, error) {
	keys := c.Keys
	if keys == nil {
		h, err := hmacKeysOf(c)
		if err != nil {
			return nil, err
		}
		keys = h
	}
	if c.TTL <= 0 {
		return nil, errors.New("token lifetime must be positive")
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(keys.Algorithms()),
		jwt.WithIssuer(c.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
		// The leeway also stretches exp, which verify checks again without it.
		jwt.WithLeeway(clockLeeway),
		// Refuse a signature whose last character carries non-zero unused
		// bits: one token, one spelling.
		jwt.WithStrictDecoding(),
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	return &JWT{
		keys: keys, observer: c.Observer, issuer: c.Issuer, audience: c.Audience,
		ttl: c.TTL, parser: jwt.NewParser(opts...), now: now, verified: newVerifiedCache(),
	}, nil
}

// hmacKeysOf returns the HMAC key of c.Algorithm and c.Key.
func hmacKeysOf(c JWTConfig) (SigningKeys, error) {
	method, ok := hmacMethod(c.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unsupported algorithm %q (want HS256, HS384 or HS512)", c.Algorithm)
	}
	if want := MinKeyBytes(c.Algorithm); len(c.Key) < want {
		return nil, fmt.Errorf("key is %d bytes, want at least %d for %s", len(c.Key), want, c.Algorithm)
	}
	return newHMACKeys(method, c.Key), nil
}

// TTL returns the lifetime of the access tokens it issues.
func (j *JWT) TTL() time.Duration { return j.ttl }

// Issuer returns the iss of the access tokens it issues and accepts.
func (j *JWT) Issuer() string { return j.issuer }

// Audience returns the aud of the access tokens it issues and accepts, or
// "" when they carry none.
func (j *JWT) Audience() string { return j.audience }

// Issue returns a signed access token for the account and session, and its
// claims; amr, when given, says how the session was authenticated.
func (j *JWT) Issue(subject, sessionID string, amr ...string) (string, Claims, error) {
	sk, err := j.keys.Signing()
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign access token: %w", err)
	}
	now := j.now().Truncate(time.Second)
	c := Claims{
		Subject: subject, SessionID: sessionID, ID: NewID(), IssuedAt: now, ExpiresAt: now.Add(j.ttl),
		KeyID: sk.ID, AMR: amr,
	}
	rc := jwtClaims{
		SessionID: sessionID, AMR: amr,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    j.issuer,
			Subject:   subject,
			ID:        c.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
	}
	if j.audience != "" {
		rc.Audience = jwt.ClaimStrings{j.audience}
	}
	t := jwt.NewWithClaims(sk.Method, rc)
	t.Header["typ"] = accessTokenType
	t.Header["kid"] = sk.ID
	s, err := t.SignedString(sk.Key)
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, c, nil
}

// Verify checks an access token's signature (in canonical base64url),
// algorithm, type, issuer, audience and times (iat and nbf with clockLeeway,
// exp without), and that its key is still published and not revoked, and
// returns its claims. It returns ErrTokenExpired for an expired token,
// ErrKeysUnavailable when the keys may be out of date, and ErrTokenInvalid
// for anything else wrong.
func (j *JWT) Verify(token string) (Claims, error) {
	now := j.now()
	// A cached token is checked again against its key, which may have been
	// revoked since: a map lookup, no cryptography.
	if c, ok := j.verified.get(token, now); ok && j.keys.Usable(c.KeyID) == nil {
		return c, nil
	}
	c, err := j.verify(token, now)
	if err != nil {
		return Claims{}, j.refuse(err)
	}
	j.verified.put(token, c, now)
	return c, nil
}

// keyOf is the jwt.Keyfunc: the key that the token's kid names, for the
// token's alg.
func (j *JWT) keyOf(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	return j.keys.Verifying(kid, t.Method.Alg())
}

func (j *JWT) verify(token string, now time.Time) (Claims, error) {
	var rc jwtClaims
	looked := false
	t, err := j.parser.ParseWithClaims(token, &rc, func(t *jwt.Token) (any, error) {
		looked = true
		return j.keyOf(t)
	})
	if err != nil {
		if !looked && errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			// golang-jwt refuses an alg outside the valid methods as a bad
			// signature, before it looks for a key.
			return Claims{}, fmt.Errorf("%w: %w", ErrKeyAlgorithm, err)
		}
		return Claims{}, err
	}
	// The parser allowed clockLeeway past exp too; expiry gets none.
	if !now.Before(rc.ExpiresAt.Time) {
		return Claims{}, ErrTokenExpired
	}
	if typ, _ := t.Header["typ"].(string); typ != accessTokenType {
		return Claims{}, errBadType
	}
	if rc.Subject == "" || rc.SessionID == "" || rc.ID == "" || rc.IssuedAt == nil || rc.NotBefore == nil {
		return Claims{}, errMissingClaims
	}
	kid, _ := t.Header["kid"].(string)
	return Claims{
		Subject: rc.Subject, SessionID: rc.SessionID, ID: rc.ID,
		IssuedAt: rc.IssuedAt.Time, ExpiresAt: rc.ExpiresAt.Time, KeyID: kid, AMR: rc.AMR,
	}, nil
}
