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
}

type jwtClaims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// JWT issues and verifies access tokens with one HMAC key and algorithm.
type JWT struct {
	method   jwt.SigningMethod
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
	parser   *jwt.Parser
	now      func() time.Time
	verified verifiedCache
}

// JWTConfig configures NewJWT.
type JWTConfig struct {
	Algorithm string // HS256, HS384 or HS512
	Key       []byte
	Issuer    string
	Audience  string // optional
	TTL       time.Duration
	Now       func() time.Time // defaults to time.Now
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

// NewJWT returns a JWT for c. It fails for an unsupported algorithm or a key
// shorter than MinKeyBytes of the algorithm.
func NewJWT(c JWTConfig) (*JWT, error) {
	method, ok := hmacMethod(c.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unsupported algorithm %q (want HS256, HS384 or HS512)", c.Algorithm)
	}
	if want := MinKeyBytes(c.Algorithm); len(c.Key) < want {
		return nil, fmt.Errorf("key is %d bytes, want at least %d for %s", len(c.Key), want, c.Algorithm)
	}
	if c.TTL <= 0 {
		return nil, errors.New("token lifetime must be positive")
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{method.Alg()}),
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
		method: method, key: c.Key, issuer: c.Issuer, audience: c.Audience,
		ttl: c.TTL, parser: jwt.NewParser(opts...), now: now, verified: newVerifiedCache(),
	}, nil
}

// TTL returns the lifetime of the access tokens it issues.
func (j *JWT) TTL() time.Duration { return j.ttl }

// Issue returns a signed access token for the account and session, and its
// claims.
func (j *JWT) Issue(subject, sessionID string) (string, Claims, error) {
	now := j.now().Truncate(time.Second)
	c := Claims{Subject: subject, SessionID: sessionID, ID: NewID(), IssuedAt: now, ExpiresAt: now.Add(j.ttl)}
	rc := jwtClaims{
		SessionID: sessionID,
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
	t := jwt.NewWithClaims(j.method, rc)
	t.Header["typ"] = accessTokenType
	s, err := t.SignedString(j.key)
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, c, nil
}

// Verify checks an access token's signature (in canonical base64url),
// algorithm, type, issuer, audience and times (iat and nbf with clockLeeway,
// exp without), and returns its claims. It returns ErrTokenExpired for
// an expired token and ErrTokenInvalid for anything else wrong.
func (j *JWT) Verify(token string) (Claims, error) {
	now := j.now()
	if c, ok := j.verified.get(token, now); ok {
		return c, nil
	}
	c, err := j.verify(token, now)
	if err == nil {
		j.verified.put(token, c, now)
	}
	return c, err
}

func (j *JWT) verify(token string, now time.Time) (Claims, error) {
	var rc jwtClaims
	t, err := j.parser.ParseWithClaims(token, &rc, func(*jwt.Token) (any, error) { return j.key, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, ErrTokenExpired
		}
		return Claims{}, ErrTokenInvalid
	}
	// The parser allowed clockLeeway past exp too; expiry gets none.
	if !now.Before(rc.ExpiresAt.Time) {
		return Claims{}, ErrTokenExpired
	}
	if typ, _ := t.Header["typ"].(string); typ != accessTokenType {
		return Claims{}, ErrTokenInvalid
	}
	if rc.Subject == "" || rc.SessionID == "" || rc.ID == "" || rc.IssuedAt == nil || rc.NotBefore == nil {
		return Claims{}, ErrTokenInvalid
	}
	return Claims{
		Subject: rc.Subject, SessionID: rc.SessionID, ID: rc.ID,
		IssuedAt: rc.IssuedAt.Time, ExpiresAt: rc.ExpiresAt.Time,
	}, nil
}
