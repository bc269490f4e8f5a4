package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/videos"
)

// homeData is what the home page's sections receive.
type homeData struct {
	Trending []videos.Video
	Recent   []videos.Video
	NextURL  string // older recent videos
	Paged    bool   // a later page of recent videos: trending is not shown
}

// homeSections fills the home page: trending (first page only) and recent videos.
func (s *Server) homeSections(c *gin.Context) (homeData, error) {
	var d homeData
	cur, err := community.ParseCursor(c.Query("cursor"))
	if err != nil {
		return d, err
	}
	d.Paged = !cur.IsZero()
	if !d.Paged {
		t, err := s.deps.Community.Trending(c, community.Cursor{}, 8)
		if err != nil {
			return d, err
		}
		d.Trending = t.Videos
	}
	r, err := s.deps.Community.Recent(c, cur, community.DefaultLimit)
	if err != nil {
		return d, err
	}
	d.Recent = r.Videos
	if r.Next != "" {
		d.NextURL = "/?cursor=" + url.QueryEscape(r.Next)
	}
	return d, nil
}

// listData is what templates/pages/videolist.html receives.
type listData struct {
	Heading string
	Empty   string
	Query   string
	Videos  []videos.Video
	NextURL string
}

// videoListPage renders the videolist page d with the page fetch returns
// for the request's cursor; next is the page's own URL up to the cursor
// parameter ("/liked?"), for the link to the next page.
func (s *Server) videoListPage(c *gin.Context, d listData, next string, fetch videoPage) {
	cur, err := community.ParseCursor(c.Query("cursor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := fetch(cur, community.DefaultLimit)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Videos = p.Videos
	if p.Next != "" {
		d.NextURL = next + "cursor=" + url.QueryEscape(p.Next)
	}
	s.htmlPage(c, http.StatusOK, "videolist", Page{Title: d.Heading, Data: d})
}

func (s *Server) searchPage(c *gin.Context) {
	q := community.NormalizeQuery(c.Query("q"))
	d := listData{Heading: "Search", Query: q, Empty: "No videos match your search. Try other words."}
	if q != "" {
		d.Heading = "Results for “" + q + "”"
	} else {
		d.Empty = "Type some words in the search box to find videos."
	}
	s.videoListPage(c, d, "/search?q="+url.QueryEscape(q)+"&", func(cur community.Cursor, limit int) (community.VideoPage, error) {
		return s.deps.Community.Search(c, q, cur, limit)
	})
}

func (s *Server) likedPage(c *gin.Context) {
	s.videoListPage(c, listData{Heading: "Liked videos", Empty: "Videos you like show up here."}, "/liked?",
		func(cur community.Cursor, limit int) (community.VideoPage, error) {
			return s.deps.Community.Liked(c, currentUser(c), cur, limit)
		})
}

func (s *Server) feedPage(c *gin.Context) {
	s.videoListPage(c, listData{Heading: "Subscriptions", Empty: "New videos from channels you subscribe to show up here."}, "/feed/subscriptions?",
		func(cur community.Cursor, limit int) (community.VideoPage, error) {
			return s.deps.Community.Feed(c, currentUser(c), cur, limit)
		})
}

// channelData is what templates/pages/channel.html receives.
type channelData struct {
	Channel community.ChannelInfo
	Sort    string
	Videos  []videos.Video
	NextURL string
	IsOwner bool
	Sub     subscribeView
}

// subscribeView is what the "community/subscribe" button needs.
type subscribeView struct {
	Channel  community.ChannelInfo
	SignedIn bool
	Own      bool
	CSRF     string
	Next     string // where the form returns to
}

func (s *Server) subscribeButton(c *gin.Context, ch community.ChannelInfo, next string) subscribeView {
	u := currentUser(c)
	return subscribeView{Channel: ch, SignedIn: u != nil, Own: u != nil && u.ID == ch.OwnerID, CSRF: s.csrfToken(c), Next: next}
}

func (s *Server) channelPage(c *gin.Context) {
	u := currentUser(c)
	ch, err := s.deps.Community.Channel(c, c.Param("handle"), u)
	if err != nil {
		s.fail(c, err)
		return
	}
	cur, err := community.ParseCursor(c.Query("cursor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	sort := community.Sort(c.DefaultQuery("sort", "newest"))
	if sort != community.SortPopular {
		sort = community.SortNewest
	}
	p, err := s.deps.Community.ChannelVideos(c, ch.ID, sort, cur, community.DefaultLimit)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := channelData{Channel: ch, Sort: string(sort), Videos: p.Videos, IsOwner: u != nil && u.ID == ch.OwnerID,
		Sub: s.subscribeButton(c, ch, c.Request.URL.RequestURI())}
	if p.Next != "" {
		d.NextURL = "/c/" + url.PathEscape(ch.Handle) + "?sort=" + string(sort) + "&cursor=" + url.QueryEscape(p.Next)
	}
	og := map[string]string{"og:type": "profile", "og:url": s.absURL("/c/" + ch.Handle)}
	if ch.AvatarURL != "" {
		og["og:image"] = s.absURL(ch.AvatarURL)
	}
	desc := ch.Description
	if r := []rune(desc); len(r) > 200 {
		desc = string(r[:200]) + "…"
	}
	s.htmlPage(c, http.StatusOK, "channel", Page{Title: ch.Name, Description: desc, OG: og, Data: d})
}
