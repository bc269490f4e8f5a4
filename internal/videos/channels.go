package videos

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
)

// handleRe mirrors the CHECK on channels.handle in migration 00002.
var handleRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{2,29}$`)

// NewChannel is what a user fills in to open a channel.
type NewChannel struct {
	Name        string `json:"name"`
	Handle      string `json:"handle"`
	Description string `json:"description"`
}

// ValidateHandle lower-cases and checks a channel handle: 3 to 30 of a-z,
// 0-9, "_" and "-", starting with a letter or digit.
func ValidateHandle(h string) (string, error) {
	h = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "@"))
	if !handleRe.MatchString(h) {
		return "", errs.Invalid("invalid_handle", "the handle must be 3 to 30 characters of a-z, 0-9, _ and -, starting with a letter or digit")
	}
	return h, nil
}

// Validate trims and checks the fields of a new channel.
func (n NewChannel) Validate() (NewChannel, error) {
	var err error
	if n.Handle, err = ValidateHandle(n.Handle); err != nil {
		return n, err
	}
	n.Name = strings.TrimSpace(n.Name)
	if c := utf8.RuneCountInString(n.Name); !utf8.ValidString(n.Name) || c < 1 || c > 100 || strings.ContainsAny(n.Name, "\x00\r\n") {
		return n, errs.Invalid("invalid_name", "the channel name must be 1 to 100 characters on one line")
	}
	n.Description = strings.TrimSpace(n.Description)
	if !utf8.ValidString(n.Description) || utf8.RuneCountInString(n.Description) > 5000 {
		return n, errs.Invalid("invalid_description", "the channel description must be at most 5,000 characters")
	}
	if strings.ContainsRune(n.Description, 0) {
		return n, errs.Invalid("invalid_description", "the channel description contains a NUL character")
	}
	return n, nil
}

// OpenChannel opens u's channel and makes u a creator (a viewer becomes a
// creator; finance staff and admins keep their role), both in one
// transaction. A user has at most one channel.
func (s *Service) OpenChannel(ctx context.Context, u *accounts.User, in NewChannel) (Channel, error) {
	if u == nil {
		return Channel{}, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	}
	in, err := in.Validate()
	if err != nil {
		return Channel{}, err
	}
	ch, err := s.store.CreateChannel(ctx, u.ID, in)
	if err != nil {
		if errors.Is(err, errs.ErrConflict) {
			if _, e := s.store.ChannelByOwner(ctx, u.ID); e == nil {
				return Channel{}, errs.New(errs.ErrConflict, "channel_exists", "you already have a channel")
			}
			return Channel{}, errs.New(errs.ErrConflict, "handle_taken", "the handle @%s is already taken; choose another", in.Handle)
		}
		return Channel{}, err
	}
	if u.Role == accounts.RoleViewer {
		u.Role = accounts.RoleCreator
	}
	return ch, nil
}

// ChannelOf returns u's channel, or a not-found error telling them to open one.
func (s *Service) ChannelOf(ctx context.Context, u *accounts.User) (Channel, error) {
	if u == nil {
		return Channel{}, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	}
	ch, err := s.store.ChannelByOwner(ctx, u.ID)
	if errors.Is(err, errs.ErrNotFound) {
		return Channel{}, errs.New(errs.ErrNotFound, "no_channel", "you have no channel yet; open one at /channels/new")
	}
	return ch, err
}
