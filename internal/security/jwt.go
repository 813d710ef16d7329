package security

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretKeyBytes is the shortest signing key accepted for HMAC.
const MinSecretKeyBytes = 32

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

// NewJWT returns a JWT for c. It fails for an unsupported algorithm or a key
// shorter than MinSecretKeyBytes.
func NewJWT(c JWTConfig) (*JWT, error) {
	var method jwt.SigningMethod
	switch c.Algorithm {
	case "HS256":
		method = jwt.SigningMethodHS256
	case "HS384":
		method = jwt.SigningMethodHS384
	case "HS512":
		method = jwt.SigningMethodHS512
	default:
		return nil, fmt.Errorf("unsupported algorithm %q (want HS256, HS384 or HS512)", c.Algorithm)
	}
	if len(c.Key) < MinSecretKeyBytes {
		return nil, fmt.Errorf("key is %d bytes, want at least %d", len(c.Key), MinSecretKeyBytes)
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

// Verify checks an access token's signature, algorithm, type, issuer,
// audience and times, and returns its claims. It returns ErrTokenExpired for
// an expired token and ErrTokenInvalid for anything else wrong.
func (j *JWT) Verify(token string) (Claims, error) {
	now := j.now()
	if c, ok := j.verified.get(token, now); ok {
		return c, nil
	}
	c, err := j.verify(token)
	if err == nil {
		j.verified.put(token, c, now)
	}
	return c, err
}

func (j *JWT) verify(token string) (Claims, error) {
	var rc jwtClaims
	t, err := j.parser.ParseWithClaims(token, &rc, func(*jwt.Token) (any, error) { return j.key, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, ErrTokenExpired
		}
		return Claims{}, ErrTokenInvalid
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
