// Package metricstest reads Prometheus text exposition in tests, so that they check the series an
// endpoint really serves, by name and labels, rather than the collectors behind it.
package metricstest

import (
	"io"
	"net/http"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape gets url and parses its answer; it fails the test unless that is 200 and valid text.
func Scrape(tb testing.TB, url string) Families {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatalf("scrape %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		tb.Fatalf("scrape %s: status %d: %s", url, res.StatusCode, b)
	}
	return Parse(tb, res.Body)
}

// Parse parses the Prometheus text format.
func Parse(tb testing.TB, r io.Reader) Families {
	tb.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		tb.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// Value sums the series of the family name whose labels include the given name, value pairs: the
// value of a counter or gauge, the observation count of a histogram or summary. ok is false when
// no series matched.
func (f Families) Value(name string, labels ...string) (v float64, ok bool) {
	fam := f[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		ok = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		case m.Summary != nil:
			v += float64(m.Summary.GetSampleCount())
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		}
	}
	return v, ok
}

// LabelValues lists the distinct values of label across the series of the family name.
func (f Families) LabelValues(name, label string) []string {
	var vals []string
	for _, m := range f[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && !slices.Contains(vals, lp.GetValue()) {
				vals = append(vals, lp.GetValue())
			}
		}
	}
	slices.Sort(vals)
	return vals
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == pairs[i] && lp.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
