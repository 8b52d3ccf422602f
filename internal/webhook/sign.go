// Package webhook is what a delivery of an event to a subscriber's URL is made of, apart from
// where the deliveries are kept and who schedules them: the Standard Webhooks signature and its
// secrets, the retry schedule, and the HTTP client that delivers, refusing private addresses.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix begins every secret, as Standard Webhooks writes them.
const SecretPrefix = "whsec_"

// secretSize is how many random bytes a secret holds: more than the 24 that the contract asks.
const secretSize = 32

// NewSecret returns a new secret: SecretPrefix and the base64 of random bytes.
func NewSecret() string {
	b := make([]byte, secretSize)
	rand.Read(b) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ErrBadSecret is returned for a string that is not a secret.
var ErrBadSecret = errors.New("webhook: a secret is " + SecretPrefix + " and base64")

// Key returns the bytes that a secret signs with: its base64 decoded.
func Key(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// The headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sign returns the value of the webhook-signature header for the message: one "v1,<base64 of
// HMAC-SHA256 of id.timestamp.body>" per key, space-separated, so that a receiver that knows any
// one of the secrets (the new one or the old one, while a rotation overlaps) can verify it.
func Sign(id string, at time.Time, body []byte, keys ...[]byte) string {
	sigs := make([]string, len(keys))
	for i, key := range keys {
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac(key, id, at, body))
	}
	return strings.Join(sigs, " ")
}

func mac(key []byte, id string, at time.Time, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(at.Unix(), 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a delivery as a receiver does: a signature of the headers' id and timestamp and
// the body by the secret, and a timestamp within tolerance of now, against replays.
func Verify(id, timestamp, signature string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	key, err := Key(secret)
	if err != nil {
		return err
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: the timestamp is not Unix seconds")
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return errors.New("webhook: the timestamp is too far from now")
	}
	want := mac(key, id, at, body)
	for sig := range strings.FieldsSeq(signature) {
		version, b64, ok := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("webhook: no signature matches")
}
