package community

import (
	"context"
	"errors"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
)

// Channel subscriptions.

// Subscribe subscribes u to the channel with handle (on) or unsubscribes;
// both are idempotent. Subscribing to one's own channel is refused.
func (s *Service) Subscribe(ctx context.Context, u *accounts.User, handle string, on bool) (SubscriptionState, error) {
	if u == nil {
		return SubscriptionState{}, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in to subscribe")
	}
	ch, err := s.byHandle(ctx, handle)
	if err != nil {
		return SubscriptionState{}, err
	}
	if on && ch.OwnerID == u.ID {
		return SubscriptionState{}, errs.Invalid("own_channel", "you cannot subscribe to your own channel")
	}
	st, err := s.store.Subscribe(ctx, u.ID, ch.ID, on)
	if errors.Is(err, errs.ErrNotFound) {
		return SubscriptionState{}, errNoChannel
	}
	return st, err
}
