package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/auth"
)

// keyView is a key as the API shows it, with its times in microseconds like every time in the
// API; the secret only in the answer to creating it, the one time it is shown.
type keyView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      auth.Role `json:"role"`
	Subject   string    `json:"subject"`
	CreatedAt micros    `json:"created_at"`
	RevokedAt *micros   `json:"revoked_at"`
	Secret    string    `json:"secret,omitempty"`
}

func viewKey(k auth.Key) keyView {
	return keyView{ID: k.ID, Name: k.Name, Role: k.Role, Subject: k.Subject,
		CreatedAt: micros(k.CreatedAt), RevokedAt: (*micros)(k.RevokedAt)}
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in auth.NewKey
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	secret, hash := auth.NewSecret()
	k, err := s.svc.CreateKey(r.Context(), in, hash)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the secret is shown once and kept nowhere
	created := viewKey(k)
	created.Secret = secret
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.svc.ListKeys(r.Context())
	if err != nil {
		return err
	}
	items := make([]keyView, len(keys))
	for i, k := range keys {
		items[i] = viewKey(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.svc.RevokeKey(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	// This process stops trusting the key now; the others hear of it from the database.
	s.auth.forget()
	writeJSON(w, http.StatusOK, viewKey(k))
	return nil
}
