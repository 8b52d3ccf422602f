package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/webhook"
)

// TestSignStandardWebhooks checks a signature against one computed here from the Standard
// Webhooks definition, and Verify against its rules: any of several signatures, the right secret,
// the body unchanged, the timestamp recent.
func TestSignStandardWebhooks(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	id, at, body := "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id + ".1614265330." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil))
	if want != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" { // the specification's example
		t.Fatalf("the reference signature is %s", want)
	}

	k, err := webhook.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := webhook.Sign(id, at, body, k); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	other := webhook.NewSecret()
	k2, err := webhook.Key(other)
	if err != nil {
		t.Fatal(err)
	}
	both := webhook.Sign(id, at, body, k2, k)
	if n := len(strings.Fields(both)); n != 2 {
		t.Fatalf("two keys gave %d signatures: %s", n, both)
	}
	ts := "1614265330"
	for _, tt := range []struct {
		name      string
		signature string
		body      string
		secret    string
		now       time.Time
		ok        bool
	}{
		{"its own", want, string(body), secret, at, true},
		{"either of two, the old secret", both, string(body), secret, at.Add(time.Minute), true},
		{"either of two, the new secret", both, string(body), other, at.Add(-time.Minute), true},
		{"another secret", want, string(body), other, at, false},
		{"another body", want, `{"test": 2432232315}`, secret, at, false},
		{"too old", want, string(body), secret, at.Add(6 * time.Minute), false},
		{"v2", strings.Replace(want, "v1,", "v2,", 1), string(body), secret, at, false},
		{"no signature", "", string(body), secret, at, false},
	} {
		err := webhook.Verify(id, ts, tt.signature, []byte(tt.body), tt.secret, tt.now, 5*time.Minute)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestSecrets(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %s and %s", a, b)
	}
	key, err := webhook.Key(a)
	if err != nil || len(key) < 24 {
		t.Fatalf("key of %s: %d bytes, %v", a, len(key), err)
	}
	for _, bad := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!"} {
		if _, err := webhook.Key(bad); err == nil {
			t.Errorf("%q is a secret", bad)
		}
	}
}
