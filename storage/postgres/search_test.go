package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// TestKoreanSearch: on the real PostgreSQL, Korean words are found as
// words, with a particle attached, inside compounds and beside English,
// in titles, descriptions and channel names; a word that starts a title's
// word ranks above one inside a compound.
func TestKoreanSearch(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	store := postgres.NewCommunity(db)
	one := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return id
	}
	user := one(`INSERT INTO users (email, display_name, password_hash, role) VALUES ('k@example.com', '민수', 'x', 'creator') RETURNING id`)
	music := one(`INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'music', '민수의 음악 교실') RETURNING id`, user)
	user2 := one(`INSERT INTO users (email, display_name, password_hash, role) VALUES ('b@example.com', '보라', 'x', 'creator') RETURNING id`)
	cook := one(`INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'bora', '보라의 요리') RETURNING id`, user2)
	n := 0
	video := func(channel int64, title, desc string, views int) string {
		t.Helper()
		n++
		pub := fmt.Sprintf("korean%05d", n)
		one(`INSERT INTO videos (public_id, channel_id, creator_id, title, description, visibility, status, duration_seconds, views, published_at)
			VALUES ($1, $2, (SELECT owner_id FROM channels WHERE id = $2), $3, $4, 'public', 'ready', 60, $5, now()) RETURNING id`, pub, channel, title, desc, views)
		return pub
	}
	learn := video(music, "기타를 배우는 법", "처음 잡는 코드부터", 10)
	acoustic := video(music, "통기타 연주", "비 오는 날의 연주", 500)
	mixed := video(music, "Guitar lesson: 기타 코드 C", "English and 한국어", 20)
	inDesc := video(music, "여름 노래 모음", "오늘은 기타로 연주합니다", 30)
	kimchi := video(cook, "김치찌개 끓이는 법", "돼지고기와 김치", 1000)
	electric := video(music, "일렉기타 입문", "앰프 연결", 5)

	search := func(q string) []string {
		t.Helper()
		vs, err := store.SearchVideos(ctx, community.NormalizeQuery(q), 0, 50)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		var ids []string
		for _, v := range vs {
			ids = append(ids, v.PublicID)
		}
		return ids
	}
	same := func(q string, want ...string) {
		t.Helper()
		got := search(q)
		a, b := slices.Clone(got), slices.Clone(want)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("search %q found %v, want %v", q, got, want)
		}
	}
	guitar := []string{learn, acoustic, mixed, inDesc, electric}
	same("기타", guitar...)  // the word, in titles and descriptions, alone and inside compounds
	same("기타를", guitar...) // with a particle: also found without it
	same("통기타", acoustic)  // the compound finds only itself
	same("통기타를", acoustic)
	same("일렉기타", electric)
	same("연주", acoustic, inDesc) // 연주 and 연주합니다
	same("기타 코드", learn, mixed)  // both words (코드 in learn's description)
	same("guitar 기타", mixed)     // mixed Korean and English
	same("기타 -통기타", learn, mixed, inDesc, electric)
	same("김치", kimchi)
	same("보라", kimchi) // the channel's name
	same("음악 교실", learn, acoustic, mixed, inDesc, electric)
	same("요리를", kimchi) // channel name with a particle
	same("피아노")         // nothing
	if _, err := store.SearchVideos(ctx, "-기타", 0, 50); !errors.Is(err, community.ErrOnlyExclusions) {
		t.Errorf("search -기타 (only an exclusion) = %v, want refused", err)
	}
	same("guitar", mixed) // English as before

	// Ranking: a title word starting with the query before a compound,
	// whatever the views.
	got := search("기타")
	if slices.Index(got, learn) > slices.Index(got, acoustic) || slices.Index(got, mixed) > slices.Index(got, acoustic) {
		t.Errorf("search 기타 ranks %v: 기타를 배우는 법 and Guitar lesson: 기타 should come before 통기타 연주", got)
	}
	if slices.Index(got, inDesc) < slices.Index(got, learn) {
		t.Errorf("search 기타 ranks %v: a title match should come before a description match", got)
	}
}

func TestSearchTerms(t *testing.T) {
	for _, tc := range []struct {
		q, other string
		forms    [][]string
	}{
		{"기타를", "", [][]string{{"기타를", "기타"}}},
		{"통기타 연주", "", [][]string{{"통기타"}, {"연주"}}},
		{"하나", "", [][]string{{"하나"}}}, // 나 would leave one syllable
		{"책을", "", [][]string{{"책을", "책"}}},
		{"학교에서", "", [][]string{{"학교에서", "학교"}}},
		{"guitar 기타 \"open chords\"", "guitar \"open chords\"", [][]string{{"기타"}}},
		{"K팝", "K", [][]string{{"팝"}}},
		{"-기타 lesson", "lesson", [][]string{{"기타"}}},
	} {
		other, terms := community.SearchTerms(tc.q)
		var forms [][]string
		for _, term := range terms {
			forms = append(forms, term.Forms)
		}
		if other != tc.other || fmt.Sprint(forms) != fmt.Sprint(tc.forms) {
			t.Errorf("SearchTerms(%q) = %q, %v; want %q, %v", tc.q, other, forms, tc.other, tc.forms)
		}
	}
	if _, terms := community.SearchTerms("-기타"); len(terms) != 1 || !terms[0].Exclude {
		t.Errorf("-기타 is not an exclusion: %+v", terms)
	}
}
