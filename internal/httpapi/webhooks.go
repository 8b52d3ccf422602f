package httpapi

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/webhook"
)

// webhookView is a webhook as the API shows it; its secret only in the answers to creating it and
// to rotating it, the times it is shown.
type webhookView struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description"`
	CreatedAt   micros   `json:"created_at"`
	DisabledAt  *micros  `json:"disabled_at"`
	Secret      string   `json:"secret,omitempty"`
}

func viewWebhook(w webhook.Webhook) webhookView {
	types := make([]string, len(w.Types))
	for i, t := range w.Types {
		types[i] = outEventPrefix + string(t)
	}
	return webhookView{ID: w.ID, URL: w.URL, Types: types, Description: w.Description,
		CreatedAt: micros(w.CreatedAt), DisabledAt: (*micros)(w.DisabledAt)}
}

// withSecret shows the webhook with its secret, once, and keeps the answer out of every cache.
func withSecret(rw http.ResponseWriter, w webhook.Webhook) webhookView {
	rw.Header().Set("Cache-Control", "no-store")
	v := viewWebhook(w)
	v.Secret = w.Secret
	return v
}

type attemptView struct {
	At             micros  `json:"at"`
	ResponseStatus *int    `json:"response_status"`
	DurationMS     float64 `json:"duration_ms"`
	Error          *string `json:"error"`
}

type deliveryView struct {
	ID            string        `json:"id"`
	EventID       string        `json:"event_id"`
	EventType     string        `json:"event_type"`
	Status        string        `json:"status"`
	Attempts      []attemptView `json:"attempts"`
	NextAttemptAt *micros       `json:"next_attempt_at"`
}

func viewDelivery(d webhook.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, EventID: d.EventID(), EventType: outEventPrefix + string(d.EventType), Status: string(d.Status),
		Attempts: make([]attemptView, len(d.Attempts)), NextAttemptAt: (*micros)(d.NextAttemptAt)}
	for i, a := range d.Attempts {
		av := attemptView{At: micros(a.At), DurationMS: float64(a.Duration.Microseconds()) / 1000}
		if a.Status != 0 {
			av.ResponseStatus = &a.Status
		}
		if a.Error != "" {
			av.Error = &a.Error
		}
		v.Attempts[i] = av
	}
	return v
}

type newWebhookRequest struct {
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in newWebhookRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	n := webhook.NewWebhook{URL: in.URL, Description: in.Description}
	for _, name := range in.Types {
		if t := eventType(name); !slices.Contains(n.Types, t) {
			n.Types = append(n.Types, t)
		}
	}
	wh, err := s.svc.AddWebhook(r.Context(), n)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+wh.ID)
	writeJSON(w, http.StatusCreated, withSecret(w, wh))
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.svc.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	items := make([]webhookView, len(ws))
	for i, wh := range ws {
		items[i] = viewWebhook(wh)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.svc.Webhook(r.Context(), chi.URLParam(r, "webhook_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewWebhook(wh))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteWebhook(r.Context(), chi.URLParam(r, "webhook_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) enableWebhook(enabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		wh, err := s.svc.SetWebhookEnabled(r.Context(), chi.URLParam(r, "webhook_id"), enabled)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, viewWebhook(wh))
		return nil
	}
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.svc.RotateWebhookSecret(r.Context(), chi.URLParam(r, "webhook_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withSecret(w, wh))
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "webhook_id")
	scope := "deliveries " + id
	p, err := s.pageRequest(r, scope)
	if err != nil {
		return err
	}
	page, err := s.svc.ListDeliveries(r.Context(), id, p)
	if err != nil {
		return err
	}
	writePage(w, s.cursors, scope, page, viewDelivery)
	return nil
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Redeliver(r.Context(), chi.URLParam(r, "webhook_id"), chi.URLParam(r, "delivery_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, viewDelivery(d))
	return nil
}
