package lpsim

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Demo values shared by cmd/lpsim and the bridge's zero-config demo mode.
// They are documented, fixed and not secret; still, never print them.
const (
	// DemoAccountID is the account of the demo.
	DemoAccountID = "55500011"
	// DemoPassword is every demo agent's password.
	DemoPassword = "demo-password"
	// DemoClientSecret is the client secret of every demo agent's OAuth2
	// app (the way bots log in today); DemoClientID gives the client id.
	DemoClientSecret = "demo-client-secret"
	// DemoSecret is every demo agent's OAuth1 API-key secret; the app key is
	// "<login>-app-key" and the access token "<login>-access-token".
	DemoSecret = "demo-secret"
	// DemoAccessTokenSecret is every demo agent's access-token secret.
	DemoAccessTokenSecret = "demo-token-secret"
	// demoFirstSkillID numbers demo skills like the reference's examples.
	demoFirstSkillID = 31100810
)

// DemoSpec describes a demo account; zero values get the defaults in
// brackets.
type DemoSpec struct {
	AccountID string   // [DemoAccountID]
	Agents    []string // login names [bot.one, bot.two]
	Skills    []string // skill names, ids 31100810, 31100811, ... [Support, Billing]
	MaxChats  int      // concurrent chats per agent; 0 or -1 = unlimited [unlimited]
}

// DemoSkill is a skill AddDemo created.
type DemoSkill struct {
	ID, Name string
}

// DemoClientID is the client id of the demo agent's OAuth2 app.
func DemoClientID(login string) string { return login + "-client-id" }

// AddDemo creates a demo account whose agents have every skill, the
// password DemoPassword, an OAuth2 app (DemoClientID, DemoClientSecret) and
// an OAuth1 API key (see DemoSecret), and returns its skills.
func (s *Simulator) AddDemo(d DemoSpec) ([]DemoSkill, error) {
	if d.AccountID == "" {
		d.AccountID = DemoAccountID
	}
	if len(d.Agents) == 0 {
		d.Agents = []string{"bot.one", "bot.two"}
	}
	if len(d.Skills) == 0 {
		d.Skills = []string{"Support", "Billing"}
	}
	if err := s.AddAccount(d.AccountID); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var skills []DemoSkill
	var ids []string
	for i, name := range d.Skills {
		sk := DemoSkill{ID: strconv.Itoa(demoFirstSkillID + i), Name: name}
		if err := s.AddSkill(d.AccountID, SkillSpec(sk)); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		skills = append(skills, sk)
		ids = append(ids, sk.ID)
	}
	for _, login := range d.Agents {
		err := s.AddAgent(d.AccountID, AgentSpec{
			LoginName: login, Password: DemoPassword, Nickname: nickname(login),
			ClientID: DemoClientID(login), ClientSecret: DemoClientSecret,
			AppKey: login + "-app-key", Secret: DemoSecret,
			AccessToken: login + "-access-token", AccessTokenSecret: DemoAccessTokenSecret,
			MaxChats: d.MaxChats, SkillIDs: ids,
		})
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	return skills, nil
}

// nickname turns a login like "bot.one" into "Bot One".
func nickname(login string) string {
	words := strings.FieldsFunc(login, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '@' })
	if len(words) == 0 {
		return login
	}
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[size:]
	}
	return strings.Join(words, " ")
}
