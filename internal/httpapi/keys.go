package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"ticketflow/internal/auth"
)

// createdKey is the answer to creating a key: the key and, this once, its secret.
type createdKey struct {
	auth.Key
	Secret string `json:"secret"`
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
	k, err := s.store.CreateKey(r.Context(), in, hash)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the secret is shown once and kept nowhere
	writeJSON(w, http.StatusCreated, createdKey{Key: k, Secret: secret})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.store.ListKeys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": keys})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.store.RevokeKey(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	// This process stops trusting the key now; the others hear of it from the database.
	s.auth.forget()
	writeJSON(w, http.StatusOK, k)
	return nil
}
