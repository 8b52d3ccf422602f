package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Schedule is the wait before each attempt at a delivery, from the one before: the first at once,
// the last a day after the one before it. The attempts fall at those offsets from the start of
// the delivery's schedule (its creation, or its redelivery); a delivery whose attempt at the last
// of them fails has failed for good.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// maxRetryAfter bounds how long a receiver's Retry-After may put the next attempt off.
const maxRetryAfter = 24 * time.Hour

// NextAttempt returns when the next attempt at a delivery whose schedule started at from is due,
// after an attempt failed at at, and false when the schedule has none left. It is the schedule's
// next attempt after at, plus up to a tenth of its wait at random, so that the retries of many
// deliveries that failed together do not arrive together. A receiver's Retry-After (429 or 503),
// when given, is the wait instead, while the schedule has an attempt left: retries that a
// receiver asks for do not use the schedule up before its time.
func NextAttempt(from, at time.Time, retryAfter time.Duration) (time.Time, bool) {
	due := from
	for _, wait := range Schedule {
		due = due.Add(wait)
		if !due.After(at) {
			continue
		}
		if retryAfter > 0 {
			return at.Add(min(retryAfter, maxRetryAfter)), true
		}
		return due.Add(rand.N(wait/10 + 1)), true
	}
	return time.Time{}, false
}

// Timeout bounds one attempt: a receiver that has not answered by then has failed it.
const Timeout = 15 * time.Second

// Client delivers to receivers' URLs: no redirect followed (a 3xx is an answer, and a failure),
// an attempt bounded by Timeout, and no connection to a private address unless allowed.
type Client struct {
	http         *http.Client
	allowPrivate bool
}

// NewClient returns a Client; allowPrivate lets it reach loopback, private and link-local
// addresses (WEBHOOK_ALLOW_PRIVATE, for development and tests).
func NewClient(allowPrivate bool) *Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		// Checked on the address actually dialled, after resolution: a name that resolved to a
		// public address when the webhook was made and to a private one now is refused too.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if Private(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrPrivate, ap.Addr())
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil, // deliveries go straight to the receiver, whatever the environment says
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Client{allowPrivate: allowPrivate, http: &http.Client{
		Transport:     transport,
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ErrPrivate is returned for a URL whose host is, or resolves to, a private address.
var ErrPrivate = errors.New("the address is loopback, private or link-local")

// reserved are the networks besides those of netip's predicates that no receiver on the internet
// has: "this network", shared address space (carrier NAT), IETF protocol assignments, benchmarking,
// and NAT64 (which can reach an IPv4 address of any kind).
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Private reports whether a is an address that a delivery must not reach unless allowed.
func Private(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckURL refuses a URL that a webhook cannot have: not absolute http or https, with user
// information, or (unless private addresses are allowed) with a host that is or resolves to a
// private address.
func (c *Client) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return errors.New("the URL must be an absolute http or https URL")
	}
	if u.User != nil {
		return errors.New("the URL must not hold a user or password")
	}
	if u.Fragment != "" {
		return errors.New("the URL must not have a fragment")
	}
	if c.allowPrivate {
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("the URL's host does not resolve: %w", err)
	}
	for _, a := range addrs {
		if Private(a) {
			return fmt.Errorf("%w: %s is %s; set WEBHOOK_ALLOW_PRIVATE=true to allow it", ErrPrivate, u.Hostname(), a)
		}
	}
	return nil
}

// Attempt is what one attempt at a delivery gave.
type Attempt struct {
	At       time.Time
	Status   int // the receiver's status; 0 when it gave none
	Duration time.Duration
	// RetryAfter is the receiver's Retry-After on a 429 or 503; 0 when it gave none.
	RetryAfter time.Duration
	// Error says why an attempt that got no answer failed; "" when it got one.
	Error string
}

// Succeeded reports whether the receiver took the delivery: a 2xx.
func (a Attempt) Succeeded() bool { return a.Status >= 200 && a.Status < 300 }

// Gone reports whether the receiver said that the webhook is gone for good: 410.
func (a Attempt) Gone() bool { return a.Status == http.StatusGone }

// Deliver POSTs body to url with the Standard Webhooks headers, signed with keys, and says what
// came of it.
func (c *Client) Deliver(ctx context.Context, url, id string, body []byte, keys [][]byte, now time.Time) Attempt {
	a := Attempt{At: now}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ticketflow-webhooks")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(id, now, body, keys...))
	start := time.Now()
	res, err := c.http.Do(req)
	if err == nil {
		// A little of the answer is read so that the connection can be used again; the rest is
		// the receiver's business.
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
	}
	a.Duration = time.Since(start)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Status = res.StatusCode
	if a.Status == http.StatusTooManyRequests || a.Status == http.StatusServiceUnavailable {
		a.RetryAfter = retryAfter(res.Header.Get("Retry-After"), now)
	}
	return a
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
