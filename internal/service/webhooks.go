package service

import (
	"context"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

// Webhooks is where webhooks and their delivery logs are kept.
type Webhooks interface {
	// CreateWebhook stores a webhook as given: AddWebhook checks it first.
	CreateWebhook(ctx context.Context, url string, types []ticket.EventType, description string) (webhook.Webhook, error)
	WebhookAdmin
}

// WebhookAdmin is what an admin does with webhooks once they exist, which the service passes on
// to the store as it is.
type WebhookAdmin interface {
	Webhook(ctx context.Context, id string) (webhook.Webhook, error)
	ListWebhooks(ctx context.Context) ([]webhook.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	SetWebhookEnabled(ctx context.Context, id string, enabled bool) (webhook.Webhook, error)
	RotateWebhookSecret(ctx context.Context, id string) (webhook.Webhook, error)
	ListDeliveries(ctx context.Context, webhookID string, p ticket.PageRequest) (ticket.Page[webhook.Delivery], error)
	Redeliver(ctx context.Context, webhookID, deliveryID string) (webhook.Delivery, error)
}

// URLChecker refuses a URL that no webhook may have (webhook.Client.CheckURL).
type URLChecker interface {
	CheckURL(ctx context.Context, url string) error
}

// AddWebhook validates n, its URL's address included, and stores the webhook.
func (s *Service) AddWebhook(ctx context.Context, n webhook.NewWebhook) (webhook.Webhook, error) {
	if err := n.Validate(); err != nil {
		return webhook.Webhook{}, err
	}
	if err := s.webhookURLs.CheckURL(ctx, n.URL); err != nil {
		return webhook.Webhook{}, &ticket.Error{Code: ticket.EINVALID, Message: "invalid webhook: url " + err.Error(),
			Fields: []ticket.FieldError{{Field: "url", Message: err.Error()}}}
	}
	return s.store.CreateWebhook(ctx, n.URL, n.Types, n.Description)
}

// CheckWebhookURLs makes AddWebhook check URLs with c: by default, it refuses private addresses.
func (s *Service) CheckWebhookURLs(c URLChecker) { s.webhookURLs = c }
